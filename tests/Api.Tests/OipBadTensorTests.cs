using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static KeypointService.Api.Tests.OipTestClient;

namespace KeypointService.Api.Tests;

/// <summary>Bad tensors and bad requests over /v2: each a 4xx with the protocol's {"error"} naming the fault, never a 500.</summary>
public class OipBadTensorTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string, string> BadJson() => new()
    {
        { "wrong datatype", """{"inputs": [{"name": "image", "shape": [2, 2], "datatype": "BYTES", "data": [1, 2, 3, 4]}]}""", "datatype BYTES is not accepted" },
        { "unknown datatype", """{"inputs": [{"name": "image", "shape": [2, 2], "datatype": "FLOAT", "data": [1, 2, 3, 4]}]}""", "unknown datatype 'FLOAT'" },
        { "fewer values than the shape", """{"inputs": [{"name": "image", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3]}]}""", "data has 3 values, but the shape needs 4" },
        { "more values than the shape", """{"inputs": [{"name": "image", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]}""", "more values than the shape's 4" },
        { "value out of the datatype's range", """{"inputs": [{"name": "image", "shape": [1, 2], "datatype": "UINT8", "data": [1, 256]}]}""", "256 is not a UINT8 value" },
        { "a string among the numbers", """{"inputs": [{"name": "image", "shape": [1, 2], "datatype": "FP32", "data": [1, "x"]}]}""", "expected a number for FP32" },
        { "three channels", """{"inputs": [{"name": "image", "shape": [1, 3, 1, 1], "datatype": "FP32", "data": [1, 2, 3]}]}""", "has 3 channels" },
        { "rank 1", """{"inputs": [{"name": "image", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}""", "rank 1" },
        { "empty image", """{"inputs": [{"name": "image", "shape": [0, 4], "datatype": "FP32", "data": []}]}""", "outside 1..4096" },
        { "unknown input name", """{"inputs": [{"name": "input0", "shape": [1, 1], "datatype": "FP32", "data": [1]}]}""", "the model's input is 'image'" },
        { "two inputs", """{"inputs": [{"name": "image", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "image", "shape": [1], "datatype": "FP32", "data": [1]}]}""", "exactly one input" },
        { "unknown output", """{"inputs": [{"name": "image", "shape": [1, 1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "output0"}]}""", "unknown output 'output0'; the model's outputs are keypoints, heatmaps" },
        { "not JSON", "{\"inputs\": [", "not valid JSON" },
        { "no inputs", """{"id": "1"}""", "inputs must be a non-empty array" },
        { "bad binary_data parameter", """{"inputs": [{"name": "image", "shape": [1, 1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "keypoints", "parameters": {"binary_data": "yes"}}]}""", "binary_data must be true or false" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task Bad_json_requests_are_400(string why, string body, string message)
    {
        _ = why;
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", TestInputs.Json(body)), HttpStatusCode.BadRequest, message);
    }

    private static JsonObject BinaryHeader(string datatype, long size, params long[] shape) => new()
    {
        ["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "image", ["shape"] = new JsonArray(shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()), ["datatype"] = datatype,
            ["parameters"] = new JsonObject { ["binary_data_size"] = size },
        }),
    };

    [Fact]
    public async Task A_binary_length_that_overruns_the_body_is_400()
    {
        var response = await _client.PostAsync("/v2/models/heatmap/infer", Binary(BinaryHeader("FP32", 64, 4, 4), new byte[20]));
        await AssertError(response, HttpStatusCode.BadRequest, "binary_data_size 64 overruns the body: 20 bytes");
    }

    [Fact]
    public async Task Binary_sizes_that_disagree_with_the_shape_or_the_body_are_400()
    {
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", Binary(BinaryHeader("FP32", 12, 2, 2), new byte[12])),
            HttpStatusCode.BadRequest, "12 bytes of FP32 data, but the shape needs 4 × 4 = 16");
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", Binary(BinaryHeader("UINT8", 4, 2, 2), new byte[6])),
            HttpStatusCode.BadRequest, "6 bytes follow the JSON header but the inputs' binary_data_size add up to 4");
    }

    [Fact]
    public async Task A_header_length_beyond_the_body_or_zero_is_400()
    {
        var json = Encoding.UTF8.GetBytes(BinaryHeader("UINT8", 4, 2, 2).ToJsonString());
        foreach (var length in new[] { "100000", "-1", "zero" })
        {
            var content = TestInputs.Content([.. json, 1, 2, 3, 4], "application/octet-stream");
            content.Headers.Add(HeaderLength, length);
            await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", content), HttpStatusCode.BadRequest, "Inference-Header-Content-Length");
        }
        var raw = TestInputs.Content([1, 2, 3, 4], "application/octet-stream");
        raw.Headers.Add(HeaderLength, "0");
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", raw), HttpStatusCode.BadRequest, "raw binary request");
    }

    [Fact]
    public async Task Non_finite_values_are_400()
    {
        var nan = TestInputs.Float32([1, float.NaN, 3, 4]);
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", Binary(BinaryHeader("FP32", 16, 2, 2), nan)),
            HttpStatusCode.BadRequest, "NaN");
    }

    [Fact]
    public async Task Unknown_model_is_404_whatever_the_body()
    {
        await AssertError(await _client.PostAsync("/v2/models/nosuch/infer", TestInputs.Json("not json")), HttpStatusCode.NotFound, "unknown model 'nosuch'");
        await AssertError(await _client.GetAsync("/v2/models/nosuch"), HttpStatusCode.NotFound, "unknown model 'nosuch'");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_an_error_object()
    {
        var content = TestInputs.Content(new byte[1024 * 1024 + 1], "application/octet-stream");
        content.Headers.Add(HeaderLength, "10");
        await AssertError(await _client.PostAsync("/v2/models/heatmap/infer", content), HttpStatusCode.RequestEntityTooLarge, "exceeds the limit");
    }
}
