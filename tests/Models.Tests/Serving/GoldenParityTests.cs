using System.Text.Json.Nodes;
using KeypointService.Models.Inference;
using KeypointService.Models.Inputs;
using KeypointService.Models.Manifests;
using KeypointService.Models.Onnx;
using KeypointService.Models.Processing;
using KeypointService.Models.Serving;

namespace KeypointService.Models.Tests.Serving;

/// <summary>
/// Proves that pre-processing, ONNX Runtime and decoding on the C# side reproduce the trainer's
/// PyTorch reference, using the golden samples exported beside every model (docs/model-manifest.md).
/// </summary>
public class GoldenParityTests
{
    private static IEnumerable<string> VersionDirectoriesWithGoldenSamples() =>
        TestPaths.StoreRoots()
            .SelectMany(root => Directory.EnumerateFiles(root, "manifest.json", SearchOption.AllDirectories))
            .Where(manifest => JsonNode.Parse(File.ReadAllText(manifest))?["golden_file"] is not null)
            .Select(manifest => Path.GetDirectoryName(manifest)!);

    public static TheoryData<string> ModelsWithGoldenSamples() => new(VersionDirectoriesWithGoldenSamples());

    [Fact]
    public void Golden_samples_exist_for_every_task()
    {
        var tasks = VersionDirectoriesWithGoldenSamples()
            .Select(dir => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!["task"]!.GetValue<string>())
            .ToHashSet();
        Assert.Contains("heatmap", tasks);
        Assert.Contains("regression", tasks);
    }

    [Fact]
    public void The_default_spmkd_model_has_a_posture_head_with_golden_postures()
    {
        var store = ModelStoreLayout(FixtureModels.DefaultModels, "spmkd");
        var manifest = ManifestReader.ReadVersionDirectory(store.Directory, "spmkd", store.Version);
        Assert.Equal(["supine", "left_side", "right_side", "prone"], manifest.Posture!.Classes);
        var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(store.Directory, manifest.GoldenFile!)))!;
        Assert.All(golden["samples"]!.AsArray(), s => Assert.NotNull(s!["posture"]));
    }

    private static (string Directory, string Version) ModelStoreLayout(string root, string model)
    {
        var newest = Directory.EnumerateDirectories(Path.Combine(root, model))
            .Select(d => Path.GetFileName(d)!).Where(v => int.TryParse(v, out _)).MaxBy(int.Parse)!;
        return (Path.Combine(root, model, newest), newest);
    }

    [Theory]
    [MemberData(nameof(ModelsWithGoldenSamples))]
    public void Onnx_runtime_reproduces_pytorch(string versionDirectory)
    {
        var manifest = ManifestReader.ReadVersionDirectory(versionDirectory,
            Path.GetFileName(Path.GetDirectoryName(versionDirectory))!, Path.GetFileName(versionDirectory));
        var settings = new OnnxSessionSettings { IntraOpThreads = 1 };
        var session = OnnxSession.Create(Path.Combine(versionDirectory, manifest.ModelFile), settings);
        var reconstruction = manifest.Outputs.Reconstruction is { } r ? OnnxSession.Create(Path.Combine(versionDirectory, r.ModelFile), settings) : null;
        var model = new LoadedModel(manifest, versionDirectory, session, reconstruction);
        try
        {
            var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(versionDirectory, manifest.GoldenFile!)))!;
            var samples = golden["samples"]!.AsArray();
            Assert.NotEmpty(samples);
            foreach (var sample in samples)
                CheckSample(model, sample!, $"{versionDirectory} sample {sample!["id"]}");
        }
        finally { model.Retire(); }
    }

    private static void CheckSample(LoadedModel model, JsonNode sample, string where)
    {
        var manifest = model.Manifest;
        var input = sample["input"]!;
        var raw = Floats(input["data_b64"]!);
        var map = new InputMap(input["width"]!.GetValue<int>(), input["height"]!.GetValue<int>(), raw);

        // 1. Pre-processing.
        var expectedInput = Floats(sample["model_input_b64"]!);
        var prepared = new float[manifest.Input.Height * manifest.Input.Width];
        Preprocessor.Prepare(map.Data, map.Width, map.Height, manifest.Input, prepared);
        AssertClose(expectedInput, prepared, 1e-5f, $"{where}: pre-processed input");

        // 2. Raw outputs, on PyTorch's own model input.
        var tensor = new OnnxTensor(manifest.Input.Name, [1, 1, manifest.Input.Height, manifest.Input.Width], expectedInput);
        foreach (var (name, expected) in sample["outputs"]!.AsObject())
        {
            var session = manifest.Outputs.Reconstruction?.Name == name ? model.Reconstruction! : model.Session;
            var actual = session.Run([tensor], [name])[0];
            Assert.Equal(expected!["shape"]!.AsArray().Select(d => d!.GetValue<long>()), actual.Shape);
            AssertClose(Floats(expected["data_b64"]!), actual.Data, 1e-4f, $"{where}: output {name}");
        }

        // 3. The whole pipeline, decoded into the caller's pixels.
        var prediction = KeypointPredictor.Predict(model, [map], new PredictionOptions())[0];
        if (manifest.Task == ModelTask.Multi)
        {
            var instances = sample["grouping"]!["instances"]!.AsArray();
            Assert.Equal(instances.Count, prediction.Instances!.Count);
            for (var i = 0; i < instances.Count; i++)
            {
                var points = new JsonArray(instances[i]!["keypoints"]!.AsArray()
                    .Select(k => (JsonNode)new JsonArray(k!["x"]!.GetValue<double>() * map.Width, k["y"]!.GetValue<double>() * map.Height)).ToArray());
                AssertPoints(points, prediction.Instances[i].Keypoints, $"{where}: instance {i}");
            }
            return;
        }
        AssertPoints(sample["keypoints"]!, prediction.Keypoints, $"{where}: keypoints");
        if (sample["joints"] is { } joints) AssertPoints(joints, prediction.Joints!, $"{where}: joints");
        Assert.Equal(manifest.Posture is not null, sample["posture"] is not null);
        if (sample["posture"] is { } posture) AssertPosture(posture, prediction.Posture!, $"{where}: posture");
    }

    private static void AssertPosture(JsonNode expected, PostureResult actual, string what)
    {
        Assert.True(expected["label"]!.GetValue<string>() == actual.Label, $"{what}: C# {actual.Label} vs PyTorch {expected["label"]}");
        var probabilities = expected["probabilities"]!.AsObject().ToList();
        Assert.Equal(probabilities.Select(p => p.Key), actual.Probabilities.Select(p => p.Key));
        for (var c = 0; c < probabilities.Count; c++)
        {
            var d = Math.Abs(probabilities[c].Value!.GetValue<double>() - actual.Probabilities[c].Value);
            Assert.True(d < 1e-5, $"{what} {probabilities[c].Key}: C# {actual.Probabilities[c].Value:F7} vs PyTorch {probabilities[c].Value}");
        }
    }

    private static void AssertPoints(JsonNode expected, IReadOnlyList<KeypointResult> actual, string what)
    {
        var points = expected.AsArray();
        Assert.Equal(points.Count, actual.Count);
        for (var i = 0; i < points.Count; i++)
        {
            double ex = points[i]![0]!.GetValue<double>(), ey = points[i]![1]!.GetValue<double>();
            var d = Math.Max(Math.Abs(ex - actual[i].X), Math.Abs(ey - actual[i].Y));
            Assert.True(d < 0.01, $"{what} [{i}] {actual[i].Name}: C# ({actual[i].X:F4}, {actual[i].Y:F4}) vs PyTorch ({ex:F4}, {ey:F4})");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst < tolerance, $"{what}: max abs difference {worst:E2} ≥ {tolerance:E0}");
    }

    private static float[] Floats(JsonNode base64)
    {
        var bytes = Convert.FromBase64String(base64.GetValue<string>());
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4); // little-endian host
        return values;
    }
}
