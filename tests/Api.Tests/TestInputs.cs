using System.Net.Http.Headers;
using System.Text;
using KeypointService.Models.Inputs;
using KeypointService.Models.Outputs;

namespace KeypointService.Api.Tests;

/// <summary>Request bodies in every supported format, built from one synthetic map.</summary>
internal static class TestInputs
{
    public static float[] Map(int width, int height, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, width * height).Select(_ => (float)random.Next(256)).ToArray();
    }

    public static byte[] Png(int width, int height, int seed = 1) =>
        PngEncoder.EncodeGray8(width, height, Map(width, height, seed).Select(v => (byte)v).ToArray());

    public static string Csv(int width, int height, int seed = 1)
    {
        var map = Map(width, height, seed);
        var sb = new StringBuilder();
        for (var y = 0; y < height; y++) sb.AppendLine(string.Join(",", map.AsSpan(y * width, width).ToArray()));
        return sb.ToString();
    }

    public static byte[] Float32(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>A .npy v1 file of the given dtype descriptor and shape.</summary>
    public static byte[] Npy(string descr, int[] shape, byte[] payload)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(payload);
        return stream.ToArray();
    }

    public static ByteArrayContent Content(byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string DataJson(int width, int height, int seed = 1)
    {
        var map = Map(width, height, seed);
        var rows = Enumerable.Range(0, height).Select(y => "[" + string.Join(",", map.AsSpan(y * width, width).ToArray()) + "]");
        return "{\"data\": [" + string.Join(",", rows) + "]}";
    }
}
