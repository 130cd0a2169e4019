using System.Net;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>
/// One problem-document style everywhere: the service's own errors and the framework's (routing 404,
/// 405, Kestrel's body limit) all carry type, title, status, detail, instance and one traceId.
/// </summary>
public class ProblemDocumentTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static async Task<JsonObject> AssertOneStyle(HttpResponseMessage response, HttpStatusCode status, string path)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(["detail", "instance", "status", "title", "traceId", "type"], problem.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal($"https://httpstatuses.io/{(int)status}", problem["type"]!.GetValue<string>());
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]!.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]!.GetValue<string>()));
        Assert.Equal(path, problem["instance"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(problem["traceId"]!.GetValue<string>()));
        return problem;
    }

    [Fact]
    public async Task Routing_404_has_the_services_style_and_says_what_to_do()
    {
        var problem = await AssertOneStyle(await _client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound, "/v1/nothing-here");
        Assert.Equal("no endpoint matches GET /v1/nothing-here; see /swagger for the API", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Method_not_allowed_names_the_allowed_methods()
    {
        var response = await _client.DeleteAsync("/v1/models/heatmap/predict");
        var problem = await AssertOneStyle(response, HttpStatusCode.MethodNotAllowed, "/v1/models/heatmap/predict");
        Assert.Equal("DELETE /v1/models/heatmap/predict is not allowed; this path accepts POST", problem["detail"]!.GetValue<string>());
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Unknown_model_has_one_trace_id()
    {
        var problem = await AssertOneStyle(await _client.GetAsync("/v1/models/nope"), HttpStatusCode.NotFound, "/v1/models/nope");
        Assert.False(problem.ContainsKey("trace_id"));
        await AssertOneStyle(await _client.PostAsync("/v1/models/nope/predict", TestInputs.Json("{\"data\": [[1]]}")), HttpStatusCode.NotFound, "/v1/models/nope/predict");
    }

    [Fact]
    public async Task Bad_input_and_unsupported_media_have_the_same_style()
    {
        await AssertOneStyle(await _client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json("{\"data\": []}")), HttpStatusCode.BadRequest, "/v1/models/heatmap/predict");
        await AssertOneStyle(await _client.PostAsync("/v1/models/heatmap/predict", TestInputs.Content([1], "image/gif")), HttpStatusCode.UnsupportedMediaType, "/v1/models/heatmap/predict");
    }
}

/// <summary>Limits that only a real Kestrel server enforces (the in-memory test server has no body limit of its own).</summary>
public sealed class KestrelLimitTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?>());

    public KestrelLimitTests()
    {
        _factory.UseKestrel(0); // a free loopback port
        _factory.StartServer();
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Oversized_multipart_is_413_like_every_other_body_type()
    {
        using var client = _factory.CreateClient();
        var big = new byte[2 * 1024 * 1024]; // the factory's limit is 1 MiB
        using var multipart = new MultipartFormDataContent { { new ByteArrayContent(big), "file", "big.png" } };
        var response = await client.PostAsync("/v1/models/heatmap/predict", multipart);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("exceeds the limit of 1048576 bytes", JsonNode.Parse(body)!["detail"]!.GetValue<string>());
        var png = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Content(big, "image/png"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, png.StatusCode);
    }
}
