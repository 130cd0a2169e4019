using System.Text.Json;
using KeypointService.Models.Outputs;

namespace KeypointService.Browser.Tests;

/// <summary>What the demo is fed: the files README's examples point users at, and one multi-figure image.</summary>
internal static class TestFiles
{
    /// <summary>A file from examples/ (stick-figure.png/.jpg, pressure-map.csv/.npy).</summary>
    public static byte[] Example(string name) => File.ReadAllBytes(Path.Combine(FixtureModels.RepositoryRoot, "examples", name));

    /// <summary>
    /// Several stick figures: the input of the multi model's first golden sample (8-bit values stored as
    /// float32), encoded as a grayscale PNG; examples/ has no multi-figure image.
    /// </summary>
    public static byte[] MultiFigurePng()
    {
        var directory = Directory.GetDirectories(Path.Combine(FixtureModels.DefaultModels, "multi")).Single();
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "golden.json")));
        var input = golden.RootElement.GetProperty("samples")[0].GetProperty("input");
        var bytes = Convert.FromBase64String(input.GetProperty("data_b64").GetString()!);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        var pixels = values.Select(v => (byte)Math.Clamp(MathF.Round(v), 0, 255)).ToArray();
        return PngEncoder.EncodeGray8(input.GetProperty("width").GetInt32(), input.GetProperty("height").GetInt32(), pixels);
    }
}
