using System.Net;
using System.Text.Json.Nodes;
using static KeypointService.Api.Tests.OipTestClient;

namespace KeypointService.Api.Tests;

/// <summary>
/// Open Inference Protocol v2 over REST: the specification's own examples (kserve/open-inference-protocol
/// inference_rest.md; Triton's extension_binary_data.md) adapted to our model and input names, and the
/// agreement of /v2 with /v1 on the same input.
/// </summary>
public class OipRestTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> Infer(string model, JsonNode body, string version = "") =>
        _client.PostAsync($"/v2/models/{model}{(version.Length > 0 ? $"/versions/{version}" : "")}/infer", TestInputs.Json(body.ToJsonString()));

    private static JsonObject Image(int width, int height, string datatype = "FP32", int seed = 1) => new()
    {
        ["name"] = "image",
        ["shape"] = new JsonArray(height, width),
        ["datatype"] = datatype,
        ["data"] = Numbers(TestInputs.Map(width, height, seed)),
    };

    [Fact]
    public async Task Server_metadata_health_and_model_metadata()
    {
        var server = await OkJson(await _client.GetAsync("/v2"));
        Assert.Equal("KeypointService", server["name"]!.GetValue<string>());
        Assert.Contains("binary_tensor_data", server["extensions"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.True((await OkJson(await _client.GetAsync("/v2/health/live")))["live"]!.GetValue<bool>());
        Assert.True((await OkJson(await _client.GetAsync("/v2/health/ready")))["ready"]!.GetValue<bool>());
        var ready = await OkJson(await _client.GetAsync("/v2/models/heatmap/versions/1/ready"));
        Assert.Equal("heatmap", ready["name"]!.GetValue<string>());
        Assert.True(ready["ready"]!.GetValue<bool>());

        var metadata = await OkJson(await _client.GetAsync("/v2/models/heatmap"));
        Assert.Equal("heatmap", metadata["name"]!.GetValue<string>());
        Assert.Equal(["1"], metadata["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("onnxruntime_onnx", metadata["platform"]!.GetValue<string>());
        var input = metadata["inputs"]!.AsArray().Single()!;
        Assert.Equal("image", input["name"]!.GetValue<string>());
        Assert.Equal("FP32", input["datatype"]!.GetValue<string>());
        Assert.Equal([-1L, 1, -1, -1], Shape(input));
        var keypoints = Output(metadata, "keypoints");
        Assert.Equal([-1L, 5, 3], Shape(keypoints));
        var heatmaps = Output(metadata, "heatmaps");
        Assert.Equal(-1, Shape(heatmaps)[0]);
        Assert.Contains("[N, H, W]", metadata["properties"]!["input"]!.GetValue<string>());
        Assert.Contains("confidence", metadata["properties"]!["output.keypoints"]!.GetValue<string>());

        var regression = await OkJson(await _client.GetAsync("/v2/models/regression/versions/1"));
        Assert.Equal([-1L, 5, 2], Shape(Output(regression, "keypoints"))); // no confidence from coordinate regression
    }

    [Fact]
    public async Task Specification_example_request_adapted_to_the_heatmap_model()
    {
        // inference_rest.md, "Inference Request Examples": id "42", a [2, 2] UINT32 tensor, output0 requested.
        var response = await Infer("heatmap", JsonNode.Parse("""
            { "id" : "42",
              "inputs" : [ { "name" : "image", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] } ],
              "outputs" : [ { "name" : "keypoints" } ] }
            """)!);
        var result = await OkJson(response);
        Assert.Equal("42", result["id"]!.GetValue<string>());
        Assert.Equal("heatmap", result["model_name"]!.GetValue<string>());
        Assert.Equal("1", result["model_version"]!.GetValue<string>());
        var output = result["outputs"]!.AsArray().Single()!;
        Assert.Equal("keypoints", output["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal([1L, 5, 3], Shape(output));
        var data = Floats(output);
        Assert.Equal(15, data.Length);
        for (var k = 0; k < 5; k++)
        {
            Assert.InRange(data[3 * k], 0, 2); // x within the 2-pixel-wide input
            Assert.InRange(data[3 * k + 1], 0, 2);
        }

        // The same tensor nested ("natural format") gives the same answer.
        var nested = await OkJson(await Infer("heatmap", JsonNode.Parse("""
            { "id" : "42", "inputs" : [ { "name" : "image", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ [ 1, 2 ], [ 3, 4 ] ] } ],
              "outputs" : [ { "name" : "keypoints" } ] }
            """)!));
        Assert.Equal(data, Floats(nested["outputs"]![0]!));
    }

    [Fact]
    public async Task V2_keypoints_equal_v1_keypoints_and_every_input_layout_agrees()
    {
        const int w = 96, h = 80;
        var v1 = await OkJson(await _client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(w, h))));
        var expected = v1["keypoints"]!.AsArray().SelectMany(k => new[] { k!["x"]!.GetValue<float>(), k["y"]!.GetValue<float>(), k["confidence"]!.GetValue<float>() }).ToArray();

        foreach (var shape in new[] { new JsonArray(h, w), new JsonArray(1, h, w), new JsonArray(1, 1, h, w) })
        {
            var input = Image(w, h);
            input["shape"] = shape;
            var result = await OkJson(await Infer("heatmap", new JsonObject { ["inputs"] = new JsonArray(input), ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }) }));
            Assert.Equal(expected, Floats(result["outputs"]![0]!), (a, b) => Math.Abs(a - b) < 1e-3);
        }

        // UINT8 values are the same numbers as FP32 ones.
        var u8 = await OkJson(await Infer("heatmap", new JsonObject { ["inputs"] = new JsonArray(Image(w, h, "UINT8")), ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }) }));
        Assert.Equal(expected, Floats(u8["outputs"]![0]!), (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public async Task A_batch_returns_each_image_and_every_output_by_default()
    {
        const int w = 64, h = 48;
        var batch = TestInputs.Map(w, h, 1).Concat(TestInputs.Map(w, h, 2)).ToArray();
        var result = await OkJson(await Infer("heatmap", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(2, 1, h, w), ["datatype"] = "FP32", ["data"] = Numbers(batch) }),
        }));
        Assert.Null(result["id"]);
        Assert.Equal(["keypoints", "heatmaps"], result["outputs"]!.AsArray().Select(o => o!["name"]!.GetValue<string>()));
        Assert.Equal([2L, 5, 3], Shape(Output(result, "keypoints")));
        var heatmaps = Output(result, "heatmaps");
        Assert.Equal(2, Shape(heatmaps)[0]);
        Assert.Equal(5, Shape(heatmaps)[1]);
        Assert.Equal(Shape(heatmaps).Aggregate(1L, (a, b) => a * b), Floats(heatmaps).Length);

        var second = await OkJson(await Infer("heatmap", new JsonObject { ["inputs"] = new JsonArray(Image(w, h, seed: 2)), ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }) }));
        Assert.Equal(Floats(second["outputs"]![0]!), Floats(Output(result, "keypoints"))[15..], (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public async Task Binary_extension_round_trip_as_in_the_triton_example()
    {
        // extension_binary_data.md: inputs as binary_data_size bytes after the JSON header, an output asked
        // for with binary_data, the response's header length in Inference-Header-Content-Length.
        const int w = 40, h = 30;
        var pixels = TestInputs.Map(w, h).Select(v => (byte)v).ToArray();
        var header = new JsonObject
        {
            ["model_name"] = "heatmap",
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image", ["shape"] = new JsonArray(1, h, w), ["datatype"] = "UINT8",
                ["parameters"] = new JsonObject { ["binary_data_size"] = pixels.Length },
            }),
            ["outputs"] = new JsonArray(
                new JsonObject { ["name"] = "keypoints", ["parameters"] = new JsonObject { ["binary_data"] = true } },
                new JsonObject { ["name"] = "heatmaps" }),
        };
        var response = await _client.PostAsync("/v2/models/heatmap/infer", Binary(header, pixels));
        var (result, tensors) = await ReadBinary(response);
        var keypoints = Output(result, "keypoints");
        Assert.Equal(60, keypoints["parameters"]!["binary_data_size"]!.GetValue<int>());
        Assert.Null(keypoints["data"]);
        Assert.NotNull(Output(result, "heatmaps")["data"]); // not asked for as binary: JSON

        var json = await OkJson(await Infer("heatmap", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(1, h, w), ["datatype"] = "UINT8", ["data"] = new JsonArray(pixels.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()) }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }),
        }));
        Assert.Equal(Floats(json["outputs"]![0]!), Floats(tensors["keypoints"]));

        // binary_data_output on the request: every output binary, FP32 inputs binary too.
        var floats = TestInputs.Float32(TestInputs.Map(w, h));
        var all = new JsonObject
        {
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(h, w), ["datatype"] = "FP32", ["parameters"] = new JsonObject { ["binary_data_size"] = floats.Length } }),
        };
        var (allHeader, allTensors) = await ReadBinary(await _client.PostAsync("/v2/models/heatmap/infer", Binary(all, floats)));
        Assert.Equal(["keypoints", "heatmaps"], allTensors.Keys);
        Assert.Equal(Floats(tensors["keypoints"]), Floats(allTensors["keypoints"]));
        Assert.Equal(Shape(Output(allHeader, "heatmaps")).Aggregate(1L, (a, b) => a * b) * 4, allTensors["heatmaps"].Length);
    }

    [Fact]
    public async Task Versions_other_than_the_served_one_are_not_found()
    {
        var input = new JsonObject { ["inputs"] = new JsonArray(Image(8, 8)), ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }) };
        await OkJson(await Infer("heatmap", input, version: "1"));
        await AssertError(await Infer("heatmap", input, version: "7"), HttpStatusCode.NotFound, "version '7' is not served");
        await AssertError(await _client.GetAsync("/v2/models/heatmap/versions/7"), HttpStatusCode.NotFound, "only the newest loaded version, '1'");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _client.GetAsync("/v2/models/heatmap/versions/7/ready")).StatusCode);
        await AssertError(await _client.GetAsync("/v2/models/nosuch/ready"), HttpStatusCode.NotFound, "unknown model 'nosuch'");
    }
}
