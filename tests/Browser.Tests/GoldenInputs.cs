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

    /// <summary>A stick figure (the heatmap model's first golden sample, 8-bit values) as a grayscale PNG.</summary>
    public static byte[] StickFigurePng()
    {
        var (width, height, values) = Sample("heatmap");
        return PngEncoder.EncodeGray8(width, height, values.Select(v => (byte)Math.Clamp(MathF.Round(v), 0, 255)).ToArray());
    }

    /// <summary>A pressure map (the SPMKD model's first golden sample) as CSV rows.</summary>
    public static byte[] PressureCsv()
    {
        var (width, height, values) = Sample("spmkd");
        var csv = new StringBuilder();
        for (var y = 0; y < height; y++)
            csv.AppendLine(string.Join(",", values.Skip(y * width).Take(width).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return Encoding.ASCII.GetBytes(csv.ToString());
    }
}
