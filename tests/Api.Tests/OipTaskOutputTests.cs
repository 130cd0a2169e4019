using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using static KeypointService.Api.Tests.OipTestClient;

namespace KeypointService.Api.Tests;

/// <summary>The decoded outputs of the SPMKD and multi-figure tasks over /v2, and a model that is not loaded (503 / UNAVAILABLE).</summary>
public sealed class OipTaskOutputTests : IDisposable
{
    private readonly ApiFactory _factory = new(["spmkd", "multi"], new Dictionary<string, string?>
    {
        ["ModelStore:Optional:1"] = "heatmap", ["ModelStore:Optional:2"] = "regression", ["ModelStore:Expected:3"] = "multi",
    });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Spmkd_gives_keypoints_joints_and_its_raw_outputs_with_collisions_prefixed()
    {
        const int w = 84, h = 192;
        var client = _factory.CreateClient();
        var metadata = await OkJson(await client.GetAsync("/v2/models/spmkd"));
        var names = metadata["outputs"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()).ToList();
        Assert.Equal("pressure", metadata["inputs"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("joints", names);
        Assert.Contains("reconstruction", names);
        Assert.Contains("raw_keypoints", names); // the ONNX output "keypoints" beside the decoded one

        var map = TestInputs.Map(w, h);
        var result = await OkJson(await client.PostAsJsonAsync("/v2/models/spmkd/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "pressure", ["shape"] = new JsonArray(h, w), ["datatype"] = "FP32", ["data"] = Numbers(map) }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }, new JsonObject { ["name"] = "joints" }, new JsonObject { ["name"] = "raw_keypoints" }, new JsonObject { ["name"] = "reconstruction" }),
        }));
        var keypoints = Floats(Output(result, "keypoints"));
        var raw = Floats(Output(result, "raw_keypoints"));
        Assert.Equal(Shape(Output(result, "keypoints"))[1] * 2, raw.Length);
        for (var i = 0; i < raw.Length; i += 2)
        {
            Assert.Equal(raw[i] * w, keypoints[i], 3); // normalised model output × caller width = decoded pixels
            Assert.Equal(raw[i + 1] * h, keypoints[i + 1], 3);
        }
        Assert.Equal([1L, 14, 2], Shape(Output(result, "joints")));
        Assert.Equal(1, Shape(Output(result, "reconstruction"))[0]);

        var v1 = await OkJson(await client.PostAsync("/v1/models/spmkd/predict", TestInputs.Json(TestInputs.DataJson(w, h))));
        var v1Joints = v1["joints"]!.AsArray().SelectMany(j => new[] { j!["x"]!.GetValue<float>(), j["y"]!.GetValue<float>() });
        Assert.Equal(v1Joints, Floats(Output(result, "joints")), (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public async Task Multi_gives_instances_in_the_documented_layout()
    {
        var client = _factory.CreateClient();
        var metadata = await OkJson(await client.GetAsync("/v2/models/multi"));
        Assert.Equal([-1L, -1, 5, 3], Shape(Output(metadata, "instances")));
        Assert.Equal("INT32", Output(metadata, "instance_counts")["datatype"]!.GetValue<string>());

        const int w = 200, h = 160;
        var v1 = await OkJson(await client.PostAsync("/v1/models/multi/predict", TestInputs.Content(TestInputs.Png(w, h), "image/png")));
        var result = await OkJson(await client.PostAsJsonAsync("/v2/models/multi/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(1, 1, h, w), ["datatype"] = "UINT8", ["data"] = Numbers(TestInputs.Map(w, h)) }),
        }));
        var expected = v1["instances"]!.AsArray();
        var counts = Output(result, "instance_counts")["data"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        Assert.Equal([expected.Count], counts);
        var instances = Output(result, "instances");
        var slots = (int)Shape(instances)[1];
        Assert.Equal([1L, slots, 5, 3], Shape(instances));
        var data = Floats(instances);
        var scores = Floats(Output(result, "instance_scores"));
        string[] names = ["head", "left_hand", "right_hand", "left_foot", "right_foot"];
        for (var s = 0; s < expected.Count; s++)
        {
            Assert.Equal(expected[s]!["score"]!.GetValue<float>(), scores[s], 4);
            foreach (var k in expected[s]!["keypoints"]!.AsArray())
            {
                var at = (s * 5 + Array.IndexOf(names, k!["name"]!.GetValue<string>())) * 3;
                Assert.Equal(k["x"]!.GetValue<float>(), data[at], 2);
                Assert.Equal(k["y"]!.GetValue<float>(), data[at + 1], 2);
            }
        }
        var links = Output(result, "instance_links");
        Assert.Equal(4, Shape(links).Length);
        Assert.Equal(2, Shape(links)[3]);
    }

    [Fact]
    public async Task A_model_that_is_not_loaded_is_503_and_unavailable()
    {
        var client = _factory.CreateClient(); // heatmap is optional and absent from this store
        await AssertError(await client.PostAsync("/v2/models/heatmap/infer", TestInputs.Json("{}")), System.Net.HttpStatusCode.ServiceUnavailable, "not loaded");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/v2/models/heatmap/ready")).StatusCode);
        using var channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "heatmap" }));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.False((await grpc.ModelReadyAsync(new ModelReadyRequest { Name = "heatmap" })).Ready);
    }
}
