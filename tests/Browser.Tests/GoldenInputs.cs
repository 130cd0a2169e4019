using System.Globalization;
using System.Text;
using System.Text.Json;
using KeypointService.Models.Inputs;

namespace KeypointService.Browser.Tests;

/// <summary>Real inputs for the demo, taken from the golden samples committed beside the default models.</summary>
internal static class GoldenInputs
{
    /// <summary>The first golden sample of models/{model}: width, height and row-major values.</summary>
    public static (int Width, int Height, float[] Values) Sample(string model)
    {
        var directory = Directory.GetDirectories(Path.Combine(FixtureModels.DefaultModels, model)).Single();
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "golden.json")));
        var input = golden.RootElement.GetProperty("samples")[0].GetProperty("input");
        var bytes = Convert.FromBase64String(input.GetProperty("data_b64").GetString()!);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return (input.GetProperty("width").GetInt32(), input.GetProperty("height").GetInt32(), values);
    }

    /// <summary>The first golden sample of an image model (8-bit values) as a grayscale PNG.</summary>
    public static byte[] Png(string model)
    {
        var (width, height, values) = Sample(model);
        return PngEncoder.EncodeGray8(width, height, values.Select(v => (byte)Math.Clamp(MathF.Round(v), 0, 255)).ToArray());
    }

    /// <summary>The SPMKD model's first golden sample as CSV text or a little-endian float32 .npy.</summary>
    public static byte[] PressureMap(string extension) => extension switch
    {
        "csv" => PressureCsv(),
        "npy" => PressureNpy(),
        _ => throw new ArgumentOutOfRangeException(nameof(extension), extension, "csv or npy"),
    };

    private static byte[] PressureNpy()
    {
        var (width, height, values) = Sample("spmkd");
        // .npy v1: magic, version, header length, then a dict padded with spaces to a 64-byte boundary.
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({height}, {width}), }}";
        header = header.PadRight(header.Length + (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        var payload = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, payload, 0, payload.Length);
        stream.Write(payload);
        return stream.ToArray();
    }

    private static byte[] PressureCsv()
    {
        var (width, height, values) = Sample("spmkd");
        var csv = new StringBuilder();
        for (var y = 0; y < height; y++)
            csv.AppendLine(string.Join(",", values.Skip(y * width).Take(width).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return Encoding.ASCII.GetBytes(csv.ToString());
    }
}
