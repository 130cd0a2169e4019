using System.Text.Json.Nodes;
using KeypointService.Models.Manifests;

namespace KeypointService.Models.Tests.Manifests;

public class ManifestReaderTests
{
    internal static JsonObject ValidManifest() => JsonNode.Parse("""
        {
          "schema_version": 1, "name": "heatmap", "version": "3", "task": "heatmap",
          "model_file": "model.onnx", "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
          "input": { "name": "image", "layout": "NCHW", "channels": 1, "height": 128, "width": 128, "dynamic_batch": true,
                     "resize": "bilinear", "value_domain": "image_u8",
                     "normalization": { "kind": "affine", "scale": 0.00392156862745098, "offset": 0.0, "clip_min": null, "clip_max": null } },
          "outputs": { "heatmaps": { "name": "heatmaps", "height": 64, "width": 64, "stride": 2, "sigma": 2.0 } },
          "decoding": { "method": "dark" },
          "keypoints": ["head", "left_hand", "right_hand", "left_foot", "right_foot"],
          "skeleton": [[0, 1], [0, 2], [0, 3], [0, 4]],
          "metrics": { "pck_bbox@0.05": 0.99 },
          "training": { "seed": 0 }
        }
        """)!.AsObject();

    [Fact]
    public void A_valid_manifest_binds_to_the_records()
    {
        var m = ManifestReader.Parse(ValidManifest().ToJsonString(), "test");
        Assert.Equal(ModelTask.Heatmap, m.Task);
        Assert.Equal(DecodingMethod.Dark, m.Decoding.Method);
        Assert.Equal(NormalizationKind.Affine, m.Input.Normalization.Kind);
        Assert.Null(m.Input.Normalization.ClipMax);
        Assert.Equal(2.0, m.Outputs.Heatmaps!.Stride);
        Assert.Equal(5, m.Keypoints.Count);
        Assert.Equal([0, 4], m.Skeleton[3]);
        Assert.Equal(0.99, m.Metrics!["pck_bbox@0.05"]!.GetValue<double>());
    }

    public static TheoryData<string, string, string> Violations() => new()
    {
        { "task", "\"pose\"", "$.task: must be one of" },
        { "sha256", "\"abc\"", "$.sha256: 'abc' does not match" },
        { "schema_version", "2", "$.schema_version: must be 1" },
        { "keypoints", "[]", "$.keypoints: fewer than 1 items" },
        { "extra", "1", "$: unknown property 'extra'" },
        { "name", "\"Bad Name\"", "$.name: 'Bad Name' does not match" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Schema_violations_are_named(string property, string value, string expected)
    {
        var manifest = ValidManifest();
        manifest[property] = JsonNode.Parse(value);
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_required_fields_and_nested_errors_are_reported()
    {
        var manifest = ValidManifest();
        manifest.Remove("input");
        manifest["outputs"]!["heatmaps"]!["stride"] = 0;
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m.json"));
        Assert.Contains("missing required property 'input'", e.Message);
        Assert.Contains("$.outputs.heatmaps.stride", e.Message);
    }

    [Fact]
    public void Cross_field_rules_are_checked()
    {
        var manifest = ValidManifest();
        manifest["skeleton"] = JsonNode.Parse("[[0, 7]]");
        Assert.Contains("beyond the 5 named", Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m")).Message);

        manifest = ValidManifest();
        manifest["decoding"] = JsonNode.Parse("""{"method": "direct"}""");
        Assert.Contains("needs outputs.coordinates", Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m")).Message);
    }

    [Fact]
    public void Invalid_json_is_reported_with_its_source()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse("{ nope", "store/heatmap/1/manifest.json"));
        Assert.StartsWith("store/heatmap/1/manifest.json: not valid JSON", e.Message);
    }

    [Fact]
    public void Version_directory_checks_names_and_hashes()
    {
        var dir = Directory.CreateTempSubdirectory("kps-manifest-");
        try
        {
            File.WriteAllBytes(Path.Combine(dir.FullName, "model.onnx"), [1, 2, 3]);
            var manifest = ValidManifest();
            File.WriteAllText(Path.Combine(dir.FullName, "manifest.json"), manifest.ToJsonString());
            var e = Assert.Throws<ManifestException>(() => ManifestReader.ReadVersionDirectory(dir.FullName, "heatmap", "3"));
            Assert.Contains("does not match the manifest's", e.Message);

            manifest["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[] { 1, 2, 3 }));
            File.WriteAllText(Path.Combine(dir.FullName, "manifest.json"), manifest.ToJsonString());
            Assert.Equal("3", ManifestReader.ReadVersionDirectory(dir.FullName, "heatmap", "3").Version);
            Assert.Contains("does not match its directory", Assert.Throws<ManifestException>(() => ManifestReader.ReadVersionDirectory(dir.FullName, "heatmap", "4")).Message);
            Assert.Contains("does not match its directory", Assert.Throws<ManifestException>(() => ManifestReader.ReadVersionDirectory(dir.FullName, "other", "3")).Message);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Manifests_written_by_the_trainer_validate()
    {
        // Every manifest the trainer exported for this test run, and every default model in the repo.
        var manifests = TestPaths.StoreRoots().SelectMany(root => Directory.EnumerateFiles(root, "manifest.json", SearchOption.AllDirectories)).ToList();
        Assert.NotEmpty(manifests);
        foreach (var path in manifests)
        {
            var versionDir = Path.GetDirectoryName(path)!;
            var m = ManifestReader.ReadVersionDirectory(versionDir, Path.GetFileName(Path.GetDirectoryName(versionDir))!, Path.GetFileName(versionDir));
            Assert.NotEmpty(m.Keypoints);
        }
    }
}
