using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>Every kind of bad input gets a clear RFC 7807 problem, never a 500 or a stack trace.</summary>
public class BadInputTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private const string Predict = "/v1/models/heatmap/predict";

    private async Task<JsonNode> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body); // no stack trace
        var problem = JsonNode.Parse(body)!;
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains(detailContains, detail, StringComparison.OrdinalIgnoreCase);
        return problem;
    }

    public static TheoryData<string, string, string> BadJson() => new()
    {
        { "malformed JSON", "{\"data\": [[1, 2]", "malformed JSON" },
        { "not an object", "[1, 2, 3]", "expected a JSON object" },
        { "ragged rows", "{\"data\": [[1, 2, 3], [4, 5]]}", "body.data[1] has 2 values, expected 3 like body.data[0]" },
        { "empty array", "{\"data\": []}", "body.data is empty" },
        { "empty row", "{\"data\": [[]]}", "body.data[0] is empty" },
        { "NaN as a string", "{\"data\": [[1, \"NaN\"], [2, 3]]}", "body.data[0][1]: expected a number" },
        { "NaN literal", "{\"data\": [[1, NaN], [2, 3]]}", "malformed JSON" },
        { "Infinity by overflow", "{\"data\": [[1, 1e999], [2, 3]]}", "body.data[0][1]" },
        { "one-dimensional data", "{\"data\": [1, 2, 3]}", "body.data[0]: expected an array of numbers" },
        { "three-dimensional data", "{\"data\": [[[1]], [[2]]]}", "body.data[0][0]: expected a number" },
        { "no input", "{\"include\": [\"heatmaps\"]}", "give one of" },
        { "two inputs", "{\"data\": [[1]], \"image\": \"AA==\"}", "give only one" },
        { "unknown property", "{\"dta\": [[1]]}", "unknown property 'dta'" },
        { "bad base64 image", "{\"image\": \"***\"}", "not valid base64" },
        { "undecodable image", "{\"image\": \"bm90IGFuIGltYWdl\"}", "body.image" },
        { "raw size mismatch", "{\"data_b64\": \"AADAPwAAEEA=\", \"width\": 3, \"height\": 1}", "bytes" },
        { "raw without height", "{\"data_b64\": \"AADAPwAAEEA=\", \"width\": 2}", "needs 'height'" },
        { "negative width", "{\"data_b64\": \"AADAPwAAEEA=\", \"width\": -2, \"height\": 1}", "positive integer" },
        { "unknown include", "{\"data\": [[1]], \"include\": [\"skeletons\"]}", "unknown value 'skeletons'" },
        { "unknown map format", "{\"data\": [[1]], \"map_format\": \"gif\"}", "unknown value 'gif'" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task Bad_json_bodies_get_400(string because, string body, string detail)
    {
        _ = because;
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Json(body)), HttpStatusCode.BadRequest, detail);
    }

    [Fact]
    public async Task Unknown_model_gets_404()
    {
        await AssertProblem(await _client.PostAsync("/v1/models/nope/predict", TestInputs.Json("{\"data\": [[1]]}")), HttpStatusCode.NotFound, "no model named 'nope'");
        await AssertProblem(await _client.GetAsync("/v1/models/nope"), HttpStatusCode.NotFound, "no model named 'nope'");
    }

    [Fact]
    public async Task Unloaded_model_gets_503()
    {
        await AssertProblem(await _client.PostAsync("/v1/models/spmkd/predict", TestInputs.Json("{\"data\": [[1]]}")), HttpStatusCode.ServiceUnavailable, "not loaded");
    }

    [Fact]
    public async Task Unsupported_media_types_get_415()
    {
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Content([1, 2, 3], "image/gif")), HttpStatusCode.UnsupportedMediaType, "'image/gif' is not supported");
        var noType = new ByteArrayContent([1, 2, 3]);
        await AssertProblem(await _client.PostAsync(Predict, noType), HttpStatusCode.UnsupportedMediaType, "missing Content-Type");
        await AssertProblem(await _client.PostAsync("/v1/models/heatmap/predict-batch", TestInputs.Content([1], "text/csv")), HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Fact]
    public async Task Oversized_bodies_get_413()
    {
        var big = new byte[1024 * 1024 + 1];
        await AssertProblem(await _client.PostAsync(Predict + "?width=1&height=1", TestInputs.Content(big, "application/octet-stream")), HttpStatusCode.RequestEntityTooLarge, "exceeds the limit");
        using var multipart = new MultipartFormDataContent { { new ByteArrayContent(big), "file", "big.png" } };
        await AssertProblem(await _client.PostAsync(Predict, multipart), HttpStatusCode.RequestEntityTooLarge, "exceeds the limit");
        // Chunked (no Content-Length) is counted while reading.
        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new("text/csv");
        var request = new HttpRequestMessage(HttpMethod.Post, Predict) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await AssertProblem(await _client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "exceeds the limit");
    }

    public static TheoryData<string, string, byte[], string> BadBinary()
    {
        var png = TestInputs.Png(16, 16);
        return new()
        {
            { "truncated PNG", "image/png", png[..(png.Length / 2)], "image/png body" },
            { "garbage PNG", "image/png", Encoding.ASCII.GetBytes("definitely not a png"), "image/png body" },
            { "garbage JPEG", "image/jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 1, 2, 3], "image/jpeg body" },
            { "PNG sent as JPEG", "image/jpeg", png, "image/jpeg body" },
            { "ragged CSV", "text/csv", Encoding.ASCII.GetBytes("1,2,3\n4,5\n"), "row" },
            { "CSV with text", "text/csv", Encoding.ASCII.GetBytes("1,2\n3,abc\n"), "abc" },
            { "CSV with NaN", "text/csv", Encoding.ASCII.GetBytes("1,2\n3,NaN\n"), "finite" },
            { "npy of rank 3", "application/x-npy", TestInputs.Npy("<f4", [2, 2, 2], new byte[32]), "2-D" },
            { "npy of rank 1", "application/x-npy", TestInputs.Npy("<f4", [4], new byte[16]), "2-D" },
            { "npy complex dtype", "application/x-npy", TestInputs.Npy("<c8", [2, 2], new byte[32]), "dtype" },
            { "npy truncated", "application/x-npy", TestInputs.Npy("<f4", [4, 4], new byte[20]), "" },
            { "npy bad magic", "application/x-npy", Encoding.ASCII.GetBytes("NUMPY but not really"), "" },
        };
    }

    [Theory]
    [MemberData(nameof(BadBinary))]
    public async Task Bad_binary_bodies_get_400(string because, string mediaType, byte[] body, string detail)
    {
        _ = because;
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Content(body, mediaType)), HttpStatusCode.BadRequest, detail);
    }

    [Fact]
    public async Task Raw_float32_needs_matching_dimensions()
    {
        var bytes = TestInputs.Float32(new float[12]);
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Content(bytes, "application/octet-stream")), HttpStatusCode.BadRequest, "width and height");
        await AssertProblem(await _client.PostAsync(Predict + "?width=5&height=2", TestInputs.Content(bytes, "application/octet-stream")), HttpStatusCode.BadRequest, "bytes");
        await AssertProblem(await _client.PostAsync(Predict + "?width=x&height=2", TestInputs.Content(bytes, "application/octet-stream")), HttpStatusCode.BadRequest, "positive integer");
        var nan = TestInputs.Float32([1, float.NaN, 2, 3]);
        await AssertProblem(await _client.PostAsync(Predict + "?width=2&height=2", TestInputs.Content(nan, "application/octet-stream")), HttpStatusCode.BadRequest, "finite");
    }

    [Fact]
    public async Task Empty_bodies_and_bad_multipart_get_400()
    {
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Content([], "image/png")), HttpStatusCode.BadRequest, "empty");
        using var two = new MultipartFormDataContent
        {
            { TestInputs.Content(TestInputs.Png(8, 8), "image/png"), "a", "a.png" },
            { TestInputs.Content(TestInputs.Png(8, 8), "image/png"), "b", "b.png" },
        };
        await AssertProblem(await _client.PostAsync(Predict, two), HttpStatusCode.BadRequest, "exactly one file");
        using var none = new MultipartFormDataContent { { new StringContent("hello"), "field" } };
        await AssertProblem(await _client.PostAsync(Predict, none), HttpStatusCode.BadRequest, "exactly one file");
        await AssertProblem(await _client.PostAsync(Predict, TestInputs.Content(Encoding.ASCII.GetBytes("garbage"), "multipart/form-data; boundary=xyz")), HttpStatusCode.BadRequest, "multipart");
    }

    [Fact]
    public async Task Bad_batches_get_400()
    {
        const string batch = "/v1/models/heatmap/predict-batch";
        await AssertProblem(await _client.PostAsync(batch, TestInputs.Json("{\"items\": []}")), HttpStatusCode.BadRequest, "empty");
        await AssertProblem(await _client.PostAsync(batch, TestInputs.Json("{\"things\": []}")), HttpStatusCode.BadRequest, "items");
        await AssertProblem(await _client.PostAsync(batch, TestInputs.Json("{\"items\": [")), HttpStatusCode.BadRequest, "malformed JSON");
        var tooMany = "{\"items\": [" + string.Join(",", Enumerable.Repeat("{\"data\": [[1]]}", 65)) + "]}";
        await AssertProblem(await _client.PostAsync(batch, TestInputs.Json(tooMany)), HttpStatusCode.BadRequest, "limit is 64");
    }

    [Fact]
    public async Task Bad_requests_do_not_disturb_concurrent_good_ones()
    {
        var good = TestInputs.DataJson(64, 64);
        var expected = JsonNode.Parse(await (await _client.PostAsync(Predict, TestInputs.Json(good))).Content.ReadAsStringAsync())!["keypoints"]!.ToJsonString();
        var bad = new[] { "{\"data\": [[1, 2], [3]]}", "{ nope", "{\"image\": \"bm90IGFuIGltYWdl\"}", "{\"data\": [[1, \"x\"]]}" };
        var tasks = Enumerable.Range(0, 48).Select(async i =>
        {
            if (i % 2 == 0)
            {
                var response = await _client.PostAsync(Predict, TestInputs.Json(good));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(expected, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["keypoints"]!.ToJsonString());
            }
            else
            {
                var response = await _client.PostAsync(Predict, TestInputs.Json(bad[i / 2 % bad.Length]));
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            }
        });
        await Task.WhenAll(tasks);
    }
}
