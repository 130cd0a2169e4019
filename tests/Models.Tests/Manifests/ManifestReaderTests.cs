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

    private const string Source = "store/heatmap/3/manifest.json";

    /// <summary>Sets (or with a null value removes) the property at a dotted path such as "input.width".</summary>
    private static JsonObject With(string path, string? value)
    {
        var manifest = ValidManifest();
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate((JsonNode)manifest, (node, part) => node[part]!).AsObject();
        if (value is null) parent.Remove(parts[^1]);
        else parent[parts[^1]] = JsonNode.Parse(value);
        return manifest;
    }

    /// <summary>The schema errors of a message, each "pointer: text"; asserts the message names the file first.</summary>
    private static string[] SchemaErrors(JsonObject manifest)
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), Source));
        const string prefix = Source + ": does not match the manifest schema: ";
        Assert.StartsWith(prefix, e.Message);
        return e.Message[prefix.Length..].Split("; ");
    }

    public static TheoryData<string, string?, string, string> Violations() => new()
    {
        // path, new value (null: removed), the pointer the error must name, a fragment of its text
        { "input.width", null, "/input", "Required properties [\"width\"] are not present" },
        { "input", null, "(root)", "[\"input\"]" },
        { "input.width", "\"128\"", "/input/width", "(got \"128\")" },
        { "input.width", "0", "/input/width", "0 should be at least 1" },
        { "input.resize", "\"nearest\"", "/input/resize", "(got \"nearest\")" },
        { "input.normalization.kind", "\"zscore\"", "/input/normalization/kind", "(got \"zscore\")" },
        { "task", "\"pose\"", "/task", "(got \"pose\")" },
        { "sha256", "\"abc\"", "/sha256", "(got \"abc\")" },
        { "schema_version", "2", "/schema_version", "(got 2)" },
        { "keypoints", "[]", "/keypoints", "at least 1 items" },
        { "extra", "1", "/extra", "unknown property" },
        { "input.colour", "true", "/input/colour", "unknown property" },
        { "name", "\"Bad Name\"", "/name", "(got \"Bad Name\")" },
        { "outputs.heatmaps.stride", "0", "/outputs/heatmaps/stride", "0 should be greater than 0" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void A_schema_violation_names_the_file_and_the_offending_field(string path, string? value, string pointer, string fragment)
    {
        var errors = SchemaErrors(With(path, value));
        // One fault, one error: the failing keyword itself, not the $ref/properties applicators above it.
        var error = Assert.Single(errors);
        Assert.StartsWith(pointer + ": ", error);
        Assert.Contains(fragment, error);
    }

    [Fact]
    public void Several_violations_are_all_reported()
    {
        var manifest = With("input", null);
        manifest["outputs"]!["heatmaps"]!["stride"] = 0;
        manifest["task"] = "pose";
        var errors = SchemaErrors(manifest);
        Assert.Equal(3, errors.Length);
        Assert.Contains(errors, e => e.StartsWith("(root): ", StringComparison.Ordinal) && e.Contains("\"input\""));
        Assert.Contains(errors, e => e.StartsWith("/outputs/heatmaps/stride: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("/task: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_manifest_file_in_a_version_directory_is_named_by_its_path()
    {
        var dir = Directory.CreateTempSubdirectory("kps-manifest-");
        try
        {
            var path = Path.Combine(dir.FullName, "manifest.json");
            File.WriteAllText(path, With("input.height", "-1").ToJsonString());
            var e = Assert.Throws<ManifestException>(() => ManifestReader.ReadVersionDirectory(dir.FullName, "heatmap", "3"));
            Assert.StartsWith($"{path}: does not match the manifest schema: /input/height: ", e.Message);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Cross_field_rules_are_checked()
    {
        var manifest = ValidManifest();
        manifest["skeleton"] = JsonNode.Parse("[[0, 7]]");
        Assert.Contains("beyond the 5 named", Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m")).Message);

        manifest = ValidManifest();
        manifest["grouping"] = JsonNode.Parse("""
            {"method": "link_prediction", "heatmap": "h", "offsets": "o", "types": "t", "embeddings": "e",
             "peak_threshold": 0.3, "max_detections": 10, "link_scale": 1, "link_bias": 0, "link_threshold": 0.5,
             "max_link_length": 0.6, "min_keypoints": 2, "candidate_links": [[0, 1], [3, 9]]}
            """);
        Assert.Contains("grouping.candidate_links [3,9] refers to a keypoint beyond the 5 named",
            Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m")).Message);

        manifest = ValidManifest();
        manifest["decoding"] = JsonNode.Parse("""{"method": "direct"}""");
        Assert.Contains("needs outputs.coordinates", Assert.Throws<ManifestException>(() => ManifestReader.Parse(manifest.ToJsonString(), "m")).Message);
    }

    private static JsonObject WithHeadVote(string vote)
    {
        var manifest = ValidManifest();
        manifest["grouping"] = JsonNode.Parse($$"""
            {"method": "link_prediction", "heatmap": "h", "offsets": "o", "types": "t", "embeddings": "e",
             "peak_threshold": 0.3, "max_detections": 10, "link_scale": 1, "link_bias": 0, "link_threshold": 0.5,
             "max_link_length": 0.6, "min_keypoints": 2, "head_vote": {{vote}}}
            """);
        return manifest;
    }

    [Fact]
    public void A_head_vote_binds_and_adds_its_output()
    {
        var m = ManifestReader.Parse(WithHeadVote("""{"output": "v", "head_type": 0, "sigma": 0.05, "weight": 0.5}""").ToJsonString(), "m");
        Assert.Equal(new HeadVoteSpec { Output = "v", HeadType = 0, Sigma = 0.05, Weight = 0.5 }, m.Grouping!.HeadVote);
        Assert.Equal(["h", "o", "t", "e", "v"], m.Grouping.OutputNames);
        var plain = WithHeadVote("{}");
        plain["grouping"]!.AsObject().Remove("head_vote");
        Assert.Null(ManifestReader.Parse(plain.ToJsonString(), "m").Grouping!.HeadVote);
    }

    [Theory]
    [InlineData("""{"output": "v", "head_type": 5, "sigma": 0.05, "weight": 0.5}""", "m: grouping.head_vote.head_type 5 is beyond the 5 keypoints named")]
    [InlineData("""{"output": "e", "head_type": 0, "sigma": 0.05, "weight": 0.5}""", "m: grouping.head_vote.output 'e' is already another grouping output")]
    [InlineData("""{"output": "v", "head_type": 0, "sigma": 0, "weight": 0.5}""", "/grouping/head_vote/sigma: ")]
    [InlineData("""{"output": "v", "head_type": 0, "sigma": 0.05, "weight": 1.5}""", "/grouping/head_vote/weight: ")]
    [InlineData("""{"output": "v", "head_type": 0, "sigma": 0.05}""", "/grouping/head_vote: ")]
    [InlineData("""{"output": "v", "head_type": 0, "sigma": 0.05, "weight": 0.5, "scale": 2}""", "/grouping/head_vote/scale: unknown property")]
    public void A_bad_head_vote_is_refused_precisely(string vote, string expected)
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(WithHeadVote(vote).ToJsonString(), "m"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Retype_binds_and_is_refused_precisely_when_bad()
    {
        const string vote = """{"output": "v", "head_type": 0, "sigma": 0.05, "weight": 0.5}""";
        JsonObject WithRetype(string retype)
        {
            var manifest = WithHeadVote(vote);
            manifest["grouping"]!["retype"] = JsonNode.Parse(retype);
            return manifest;
        }
        ModelManifest Parse(JsonObject manifest) => ManifestReader.Parse(manifest.ToJsonString(), "m");
        Assert.Equal(new RetypeSpec { MinProbability = 0.05 }, Parse(WithRetype("""{"min_probability": 0.05}""")).Grouping!.Retype);
        Assert.Null(Parse(WithHeadVote(vote)).Grouping!.Retype);
        Assert.Contains("/grouping/retype/min_probability: ", Assert.Throws<ManifestException>(() => Parse(WithRetype("""{"min_probability": 0}"""))).Message);
        Assert.Contains("/grouping/retype: ", Assert.Throws<ManifestException>(() => Parse(WithRetype("{}"))).Message);
        var many = WithRetype("""{"min_probability": 0.05}""");
        many["keypoints"] = new JsonArray(Enumerable.Range(0, 9).Select(i => (JsonNode)JsonValue.Create($"k{i}")).ToArray());
        Assert.Contains("m: grouping.retype searches type assignments and allows at most 8 keypoint types, not 9",
            Assert.Throws<ManifestException>(() => Parse(many)).Message);
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
