using System.Text.Json.Nodes;
using KeypointService.Models.Manifests;
using KeypointService.Models.Onnx;
using KeypointService.Models.Processing;
using KeypointService.Models.Processing.Grouping;

namespace KeypointService.Models.Tests.Grouping;

/// <summary>
/// The C# grouping step of task <c>multi</c> against the Python reference (keypoint_trainer/codecs/grouping.py)
/// on the golden samples of the <c>multi</c> fixture ($KPS_FIXTURE_MODELS/multi/1, an untrained model with head
/// offsets and a head vote): the raw outputs of three images and ideal-output cases built from ground truth
/// (several figures, stray detections that must become outliers, head votes), and on those of the published
/// multi/6 (trained with head votes to its validation plateau, grouped with retype). The path without votes is covered by the golden cases without a vote.
/// </summary>
public class FigureGroupingTests
{
    private static string FixtureDirectory => Path.Combine(FixtureModels.Root, "multi", "1");
    private static string PublishedDirectory => Path.Combine(FixtureModels.DefaultModels, "multi", PublishedVersion);
    private const string PublishedVersion = "6";

    private static (ModelManifest Manifest, JsonNode Golden) Fixture()
    {
        if (!File.Exists(Path.Combine(FixtureDirectory, "manifest.json")))
            throw new InvalidOperationException($"fixture {FixtureDirectory} is missing: `PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer fixtures --out {FixtureModels.Root}`");
        return Load(FixtureDirectory, "1");
    }

    private static (ModelManifest Manifest, JsonNode Golden) Load(string directory, string version) =>
        (ManifestReader.ReadVersionDirectory(directory, "multi", version), JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "golden.json")))!);

    private static TheoryData<string> Ids(JsonNode golden)
    {
        var ids = new TheoryData<string>();
        foreach (var s in golden["samples"]!.AsArray().Concat(golden["grouping_cases"]!.AsArray())) ids.Add(s!["id"]!.GetValue<string>());
        return ids;
    }

    public static TheoryData<string> Cases() => Ids(Fixture().Golden);

    public static TheoryData<string> PublishedCases() => Ids(Load(PublishedDirectory, PublishedVersion).Golden);

    [Fact]
    public void Manifest_parses_as_a_multi_model_with_its_grouping_spec()
    {
        var (m, _) = Fixture();
        Assert.Equal(ModelTask.Multi, m.Task);
        var g = Assert.IsType<GroupingSpec>(m.Grouping);
        Assert.Equal("link_prediction", g.Method);
        Assert.Equal(["heatmap", "offsets", "types", "embeddings", "head_offsets"], g.OutputNames);
        Assert.Equal(0, g.HeadVote!.HeadType);
        Assert.Equal(5, m.Keypoints.Count);
        Assert.Equal("golden.json", m.GoldenFile); // served: GoldenParityTests runs the whole path on it
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Grouping_matches_the_python_reference(string id) => AssertGoldenCase(Fixture(), id);

    [Theory]
    [MemberData(nameof(PublishedCases))]
    public void Published_multi_with_head_votes_and_retype_groups_as_exported(string id)
    {
        var published = Load(PublishedDirectory, PublishedVersion);
        Assert.Equal("head_offsets", published.Manifest.Grouping!.HeadVote!.Output);
        Assert.NotNull(published.Manifest.Grouping.Retype);
        AssertGoldenCase(published, id);
    }

    private static void AssertGoldenCase((ModelManifest Manifest, JsonNode Golden) model, string id)
    {
        var (manifest, golden) = model;
        var isCase = golden["grouping_cases"]!.AsArray().Any(c => c!["id"]!.GetValue<string>() == id);
        var sample = (isCase ? golden["grouping_cases"]! : golden["samples"]!).AsArray().Single(s => s!["id"]!.GetValue<string>() == id)!;
        var spec = isCase ? ParseSpec(sample["spec"]!) : manifest.Grouping!;
        var outputs = sample["outputs"]!.AsObject().ToDictionary(p => p.Key, p => Tensor(p.Value!));
        if (isCase) // ideal outputs are stored without the batch dimension
            outputs = outputs.ToDictionary(p => p.Key, p => new GroupingTensor(p.Value.Data, [1, .. p.Value.Shape]));
        var actual = FigureGrouping.Group(spec, manifest.Keypoints, manifest.Skeleton, outputs);
        AssertSame(sample["grouping"]!, actual, id);
    }

    [Fact]
    public void Ideal_outputs_give_one_instance_per_figure_and_strays_become_outliers()
    {
        var (manifest, golden) = Fixture();
        var c = GroupingCase(golden, "ideal-1");
        var result = GroupCase(manifest, c);
        var truth = c["ground_truth"]!.AsArray();
        Assert.Equal(truth.Count, result.Instances.Count);
        Assert.Equal(2, result.Outliers.Count);
        foreach (var instance in result.Instances)
        {
            Assert.Equal(5, instance.Keypoints.Count);
            Assert.Equal(4, instance.Links.Count);
            var head = instance.Keypoints.Single(k => k.Name == "head");
            var figure = truth.Select(f => f!.AsArray()).OrderBy(f => Math.Abs(f[0]![0]!.GetValue<double>() - head.X) + Math.Abs(f[0]![1]!.GetValue<double>() - head.Y)).First();
            foreach (var kp in instance.Keypoints)
            {
                Assert.Equal(figure[kp.Type]![0]!.GetValue<double>(), kp.X, 1e-5);
                Assert.Equal(figure[kp.Type]![1]!.GetValue<double>(), kp.Y, 1e-5);
            }
        }
    }

    [Fact]
    public void All_type_pairs_join_a_figure_whose_head_is_missed()
    {
        var (manifest, golden) = Fixture();
        GroupingResult Run(string id) => GroupCase(manifest, GroupingCase(golden, id));
        var star = Run("ideal-1-headless");           // skeleton links all go through the head
        Assert.Empty(star.Instances);
        Assert.Equal(4, star.Outliers.Count);
        var allPairs = Run("ideal-1-headless-all-pairs");
        var figure = Assert.Single(allPairs.Instances);
        Assert.Equal(["left_hand", "right_hand", "left_foot", "right_foot"], figure.Keypoints.Select(k => k.Name));
        Assert.Equal(3, figure.Links.Count);
        Assert.Single(allPairs.Outliers);             // the stray detection
        var votes = Run("ideal-1-headless-all-pairs-votes"); // limbs of a hidden head still vote for one point
        Assert.Equal(allPairs.Instances.Select(i => i.Keypoints.Select(k => k.Detection)), votes.Instances.Select(i => i.Keypoints.Select(k => k.Detection)));
    }

    [Fact]
    public void Head_votes_separate_overlapping_figures_that_share_an_embedding()
    {
        var (manifest, golden) = Fixture();
        JsonNode Case(string id) => GroupingCase(golden, id);
        GroupingResult Run(JsonNode c) => GroupCase(manifest, c);
        // each instance as the ground-truth figure of each of its keypoints (the nearest one of that type)
        int[][] Owners(GroupingResult r, JsonNode c)
        {
            var truth = c["ground_truth"]!.AsArray().Select(f => f!.AsArray()).ToArray();
            return r.Instances.Select(i => i.Keypoints.Select(k => Enumerable.Range(0, truth.Length).MinBy(f =>
                Math.Abs(truth[f][k.Type]![0]!.GetValue<double>() - k.X) + Math.Abs(truth[f][k.Type]![1]!.GetValue<double>() - k.Y))).Distinct().ToArray()).ToArray();
        }
        var plainCase = Case("ideal-6-shared-embedding-all-pairs");
        var plain = Run(plainCase);
        Assert.Contains(Owners(plain, plainCase), o => o.Length > 1); // the embeddings mix the two figures
        var votesCase = Case("ideal-6-shared-embedding-all-pairs-votes");
        var votes = Run(votesCase);
        Assert.Equal(2, votes.Instances.Count);
        Assert.All(votes.Instances, i => Assert.Equal(5, i.Keypoints.Count));
        Assert.Equal([[0], [1]], Owners(votes, votesCase).OrderBy(o => o[0]));
        Assert.All(votes.Detections, d => Assert.NotNull(d.VoteX));
        Assert.All(plain.Detections, d => Assert.Null(d.VoteX));
    }

    [Fact]
    public void Retype_puts_a_mistyped_hand_in_its_own_figure()
    {
        var (manifest, golden) = Fixture();
        JsonNode Case(string id) => GroupingCase(golden, id);
        GroupingResult Run(JsonNode c) => GroupCase(manifest, c);
        var mistyped = Case("ideal-1-mistyped-all-pairs");     // figure 0's left hand reads as a left foot (p 0.6)
        var figures = mistyped["ground_truth"]!.AsArray().Count;
        Assert.Contains(Run(mistyped).Instances, i => i.Keypoints.Count < 5);
        var retyped = Run(Case("ideal-1-mistyped-all-pairs-retype"));
        Assert.Equal(figures, retyped.Instances.Count);
        Assert.All(retyped.Instances, i => Assert.Equal(["head", "left_hand", "right_hand", "left_foot", "right_foot"], i.Keypoints.Select(k => k.Name)));
        Assert.Contains(retyped.Instances.SelectMany(i => i.Keypoints), k => k.Name == "left_hand" && retyped.Detections[k.Detection].Type == 3);
        Assert.All(retyped.Instances.SelectMany(i => i.Links), l => Assert.True(l.Link >= 0 && l.From < l.To));
    }

    [Fact]
    public void Peaks_break_plateau_ties_in_row_major_order()
    {
        float[] heat = [0, 0, 0, 0, 0,
                        0, 1, 1, 0, 0,
                        0, 0, 0, 0, 0.5f];
        var peaks = FigureGrouping.FindPeaks(heat, 5, 3, 0.3, 10);
        Assert.Equal([(1.0, 6), (0.5, 14)], peaks); // the plateau 6-7 gives one peak, the first
        Assert.Single(FigureGrouping.FindPeaks(heat, 5, 3, 0.3, 1));
        Assert.Empty(FigureGrouping.FindPeaks(heat, 5, 3, 1.5, 10));
    }

    [Fact]
    public void Wrong_output_shapes_are_rejected()
    {
        var (manifest, golden) = Fixture();
        var sample = golden["samples"]!.AsArray()[0]!;
        var outputs = sample["outputs"]!.AsObject().ToDictionary(p => p.Key, p => Tensor(p.Value!));
        outputs["types"] = new GroupingTensor(outputs["types"].Data, [1, 4, 64, 80]);
        Assert.Throws<ArgumentException>(() => FigureGrouping.Group(manifest, outputs));
        outputs.Remove("types");
        Assert.Contains("'types' is missing", Assert.Throws<ArgumentException>(() => FigureGrouping.Group(manifest, outputs)).Message);
    }

    [Fact]
    public void Onnx_runtime_outputs_reproduce_pytorch_and_group_alike()
    {
        var (manifest, golden) = Fixture();
        var session = OnnxSession.Create(Path.Combine(FixtureDirectory, manifest.ModelFile), new OnnxSessionSettings { IntraOpThreads = 1 });
        try
        {
            foreach (var sample in golden["samples"]!.AsArray())
            {
                var input = sample!["input"]!;
                var raw = Floats(input["data_b64"]!);
                var prepared = new float[manifest.Input.Height * manifest.Input.Width];
                Preprocessor.Prepare(raw, input["width"]!.GetValue<int>(), input["height"]!.GetValue<int>(), manifest.Input, prepared);
                var expectedInput = Floats(sample["model_input_b64"]!);
                Assert.True(expectedInput.Zip(prepared).Max(p => Math.Abs(p.First - p.Second)) < 1e-5f, $"{sample["id"]}: pre-processed input");
                var tensor = new OnnxTensor(manifest.Input.Name, [1, 1, manifest.Input.Height, manifest.Input.Width], expectedInput);
                var names = manifest.Grouping!.OutputNames;
                var results = session.Run([tensor], names.ToList());
                for (var i = 0; i < names.Count; i++)
                {
                    var expected = Tensor(sample["outputs"]![names[i]]!);
                    Assert.Equal(expected.Shape, results[i].Shape);
                    var worst = expected.Data.Zip(results[i].Data).Max(p => Math.Abs(p.First - p.Second));
                    Assert.True(worst < 1e-4f, $"{sample["id"]}: output {names[i]} differs by {worst:E2}");
                }
                var grouped = FigureGrouping.Group(manifest, names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => new GroupingTensor(results[p.i].Data, results[p.i].Shape)));
                Assert.NotEmpty(grouped.Detections);
            }
        }
        finally { session.Dispose(); }
    }

    private static void AssertSame(JsonNode expected, GroupingResult actual, string id)
    {
        const double tol = 1e-9;
        var dets = expected["detections"]!.AsArray();
        Assert.Equal(dets.Count, actual.Detections.Count);
        for (var i = 0; i < dets.Count; i++)
        {
            var e = dets[i]!;
            var a = actual.Detections[i];
            Assert.True(Math.Abs(e["x"]!.GetValue<double>() - a.X) < tol && Math.Abs(e["y"]!.GetValue<double>() - a.Y) < tol, $"{id}: detection {i} position");
            Assert.Equal(e["score"]!.GetValue<double>(), a.Score, tol);
            Assert.Equal(e["type"]!.GetValue<int>(), a.Type);
            Assert.Equal(e["type_score"]!.GetValue<double>(), a.TypeScore, tol);
            Assert.Equal(e["vote"] is null, a.VoteX is null);
            if (e["vote"] is { } vote)
                Assert.True(Math.Abs(vote[0]!.GetValue<double>() - a.VoteX!.Value) < tol && Math.Abs(vote[1]!.GetValue<double>() - a.VoteY!.Value) < tol, $"{id}: detection {i} vote");
        }
        var instances = expected["instances"]!.AsArray();
        Assert.Equal(instances.Count, actual.Instances.Count);
        for (var n = 0; n < instances.Count; n++)
        {
            var e = instances[n]!;
            var a = actual.Instances[n];
            Assert.Equal(e["score"]!.GetValue<double>(), a.Score, tol);
            var kps = e["keypoints"]!.AsArray();
            Assert.Equal(kps.Count, a.Keypoints.Count);
            for (var j = 0; j < kps.Count; j++)
            {
                Assert.Equal(kps[j]!["name"]!.GetValue<string>(), a.Keypoints[j].Name);
                Assert.Equal(kps[j]!["detection"]!.GetValue<int>(), a.Keypoints[j].Detection);
                Assert.Equal(kps[j]!["x"]!.GetValue<double>(), a.Keypoints[j].X, tol);
                Assert.Equal(kps[j]!["y"]!.GetValue<double>(), a.Keypoints[j].Y, tol);
            }
            var links = e["links"]!.AsArray();
            Assert.Equal(links.Count, a.Links.Count);
            for (var j = 0; j < links.Count; j++)
            {
                Assert.Equal(links[j]!["link"]!.GetValue<int>(), a.Links[j].Link);
                Assert.Equal(links[j]!["from"]!.GetValue<int>(), a.Links[j].FromDetection);
                Assert.Equal(links[j]!["to"]!.GetValue<int>(), a.Links[j].ToDetection);
                Assert.Equal(links[j]!["pair"]![0]!.GetValue<int>(), a.Links[j].From);
                Assert.Equal(links[j]!["pair"]![1]!.GetValue<int>(), a.Links[j].To);
                Assert.Equal(links[j]!["score"]!.GetValue<double>(), a.Links[j].Score, tol);
            }
        }
        Assert.Equal(expected["outliers"]!.AsArray().Select(o => o!.GetValue<int>()), actual.Outliers);
    }

    private static JsonNode GroupingCase(JsonNode golden, string id) =>
        golden["grouping_cases"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == id)!;

    // A golden grouping case (ideal outputs, stored without the batch dimension) grouped with its own spec.
    private static GroupingResult GroupCase(ModelManifest manifest, JsonNode c)
    {
        var outputs = c["outputs"]!.AsObject().ToDictionary(p => p.Key, p => { var t = Tensor(p.Value!); return new GroupingTensor(t.Data, [1, .. t.Shape]); });
        return FigureGrouping.Group(ParseSpec(c["spec"]!), manifest.Keypoints, manifest.Skeleton, outputs);
    }

    private static GroupingSpec ParseSpec(JsonNode s) => new()
    {
        Method = s["method"]!.GetValue<string>(),
        Heatmap = s["heatmap"]!.GetValue<string>(),
        Offsets = s["offsets"]!.GetValue<string>(),
        Types = s["types"]!.GetValue<string>(),
        Embeddings = s["embeddings"]!.GetValue<string>(),
        PeakThreshold = s["peak_threshold"]!.GetValue<double>(),
        MaxDetections = s["max_detections"]!.GetValue<int>(),
        LinkScale = s["link_scale"]!.GetValue<double>(),
        LinkBias = s["link_bias"]!.GetValue<double>(),
        LinkThreshold = s["link_threshold"]!.GetValue<double>(),
        MaxLinkLength = s["max_link_length"]!.GetValue<double>(),
        MinKeypoints = s["min_keypoints"]!.GetValue<int>(),
        CandidateLinks = s["candidate_links"]?.AsArray().Select(l => l!.AsArray().Select(i => i!.GetValue<int>()).ToArray()).ToArray(),
        HeadVote = s["head_vote"] is { } v ? new HeadVoteSpec
        {
            Output = v["output"]!.GetValue<string>(),
            HeadType = v["head_type"]!.GetValue<int>(),
            Sigma = v["sigma"]!.GetValue<double>(),
            Weight = v["weight"]!.GetValue<double>(),
        } : null,
        Retype = s["retype"] is { } r ? new RetypeSpec { MinProbability = r["min_probability"]!.GetValue<double>() } : null,
    };

    private static GroupingTensor Tensor(JsonNode t) =>
        new(Floats(t["data_b64"]!), t["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray());

    private static float[] Floats(JsonNode base64)
    {
        var bytes = Convert.FromBase64String(base64.GetValue<string>());
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);
        return values;
    }
}
