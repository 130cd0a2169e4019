using System.Text.Json.Nodes;
using KeypointService.Models.Manifests;
using KeypointService.Models.Serving;

namespace KeypointService.Bench;

/// <summary>Each model's benchmark input: the first golden sample's raw map (a realistic input), as float32 + size.</summary>
internal static class BenchmarkInputs
{
    public sealed record Input(string Model, string VersionDirectory, ModelManifest Manifest, int Width, int Height, float[] Raw);

    public static IEnumerable<Input> Load(string store)
    {
        foreach (var name in StoreVersions.VisibleSubdirectories(store).Order(StringComparer.Ordinal))
        {
            var versions = StoreVersions.Ordered(StoreVersions.VisibleSubdirectories(Path.Combine(store, name)));
            if (versions.Count == 0) continue;
            var dir = Path.Combine(store, name, versions[^1]);
            var manifest = ManifestReader.ReadVersionDirectory(dir, name, versions[^1]);
            if (manifest.GoldenFile is null) throw new InvalidOperationException($"{dir}: no golden samples to benchmark with");
            var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, manifest.GoldenFile)))!["samples"]![0]!["input"]!;
            var bytes = Convert.FromBase64String(sample["data_b64"]!.GetValue<string>());
            var raw = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, raw, 0, bytes.Length);
            yield return new Input(name, dir, manifest, sample["width"]!.GetValue<int>(), sample["height"]!.GetValue<int>(), raw);
        }
    }

    private static string Number(float v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    // The /v1 JSON body: {"data": rows}.
    internal static string DataJson(Input input) =>
        "{\"data\": [" + string.Join(",", Enumerable.Range(0, input.Height).Select(r =>
            "[" + string.Join(",", input.Raw.Skip(r * input.Width).Take(input.Width).Select(Number)) + "]")) + "]}";

    // The /v2 JSON body: one FP32 tensor [H, W], flat data, decoded keypoints as the output.
    internal static string OipJson(Input input) =>
        $"{{\"inputs\": [{{\"name\": \"{input.Manifest.Input.Name}\", \"shape\": [{input.Height}, {input.Width}], \"datatype\": \"FP32\", " +
        $"\"data\": [{string.Join(",", input.Raw.Select(Number))}]}}], \"outputs\": [{{\"name\": \"keypoints\"}}]}}";

    public static int Write(Arguments args)
    {
        var output = args.Get("out", "artifacts/bench");
        Directory.CreateDirectory(output);
        foreach (var input in Load(args.Get("store", "models")))
        {
            var bytes = new byte[input.Raw.Length * 4];
            Buffer.BlockCopy(input.Raw, 0, bytes, 0, bytes.Length);
            File.WriteAllBytes(Path.Combine(output, $"{input.Model}.f32"), bytes);
            File.WriteAllText(Path.Combine(output, $"{input.Model}.size"), $"{input.Width} {input.Height}\n");
            File.WriteAllText(Path.Combine(output, $"{input.Model}.json"), DataJson(input));
            File.WriteAllText(Path.Combine(output, $"{input.Model}.oip.json"), OipJson(input));
            Console.WriteLine($"{input.Model}: {input.Width}x{input.Height}");
        }
        return 0;
    }
}
