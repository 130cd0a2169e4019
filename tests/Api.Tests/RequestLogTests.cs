using System.Net;
using System.Text.Json.Nodes;
using KeypointService.Api.Infrastructure;
using Microsoft.AspNetCore.Http;
using Serilog.Events;

namespace KeypointService.Api.Tests;

/// <summary>One Serilog request-log event per request, carrying what the request was about.</summary>
public class RequestLogTests : IClassFixture<ApiFactory>
{
    private readonly ApiFactory _factory;
    private readonly HttpClient _client;

    public RequestLogTests(ApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
        factory.Logs.Clear();
    }

    private static object? P(LogEvent e, string name) => LogCapture.Scalar(e, name);

    [Fact]
    public async Task A_prediction_logs_model_version_input_size_and_items()
    {
        var response = await _client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(40, 24)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();

        var e = _factory.Logs.RequestEvent("POST", "/v1/models/heatmap/predict");
        Assert.Equal(LogEventLevel.Information, e.Level);
        Assert.Equal(200, P(e, "StatusCode"));
        Assert.Equal("heatmap", P(e, "Model"));
        Assert.Equal("1", P(e, "Version"));
        Assert.Equal(40, P(e, "Width"));
        Assert.Equal(24, P(e, "Height"));
        Assert.Equal(1, P(e, "Items"));
        Assert.False(e.Properties.ContainsKey("ProblemDetail"));
        Assert.EndsWith("model=heatmap version=1 size=40x24 items=1", e.RenderMessage());
    }

    [Fact]
    public async Task A_batch_logs_its_item_count_and_a_bad_item_does_not_make_it_a_failure()
    {
        var good = TestInputs.DataJson(30, 20);
        var body = $"{{\"items\": [{good}, {{\"data\": [[1, 2], [3]]}}, {good}]}}";
        var response = await _client.PostAsync("/v1/models/regression/predict-batch", TestInputs.Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();

        var e = _factory.Logs.RequestEvent("POST", "/v1/models/regression/predict-batch");
        Assert.Equal(LogEventLevel.Information, e.Level);
        Assert.Equal("regression", P(e, "Model"));
        Assert.Equal(30, P(e, "Width"));
        Assert.Equal(20, P(e, "Height"));
        Assert.Equal(3, P(e, "Items"));
        // The bad item's problem is in the response; the request itself succeeded.
        Assert.False(e.Properties.ContainsKey("ProblemDetail"));
    }

    [Fact]
    public async Task A_400_logs_a_warning_with_the_problem_detail()
    {
        var response = await _client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json("{\"data\": [[1, \"NaN\"], [2, 3]]}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();

        var e = _factory.Logs.RequestEvent("POST", "/v1/models/heatmap/predict");
        Assert.Equal(LogEventLevel.Warning, e.Level);
        Assert.Equal(400, P(e, "StatusCode"));
        Assert.Contains("body.data[0][1]", detail);
        Assert.Equal(detail, P(e, "ProblemDetail"));
        Assert.Contains(detail, e.RenderMessage());
    }

    [Fact]
    public async Task A_503_logs_an_error_with_the_problem_detail()
    {
        // spmkd is optional in the test store and has no version there: not loaded.
        var response = await _client.PostAsync("/v1/models/spmkd/predict", TestInputs.Json("{\"data\": [[1]]}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await response.Content.ReadAsStringAsync();

        var e = _factory.Logs.RequestEvent("POST", "/v1/models/spmkd/predict");
        Assert.Equal(LogEventLevel.Error, e.Level);
        Assert.Contains("model 'spmkd' is not loaded", P(e, "ProblemDetail") as string);
    }

    [Fact]
    public async Task Healthy_probes_are_not_logged()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/ready")).StatusCode);
        // A later request's event is written after the probes' would have been (one client, in order).
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/v1/models")).StatusCode);
        _factory.Logs.RequestEvent("GET", "/v1/models");
        Assert.DoesNotContain(_factory.Logs.RequestEvents(), e => (P(e, "RequestPath") as string)!.StartsWith("/health", StringComparison.Ordinal));
    }

    public static TheoryData<string, int, LogEventLevel> Levels() => new()
    {
        { "/v1/models", 200, LogEventLevel.Information },
        { "/v1/models/x/predict", 404, LogEventLevel.Warning },
        { "/v1/models/x/predict", 503, LogEventLevel.Error },
        { "/health/ready", 200, LogEventLevel.Verbose }, // below the minimum level: not written
        { "/health/live", 200, LogEventLevel.Verbose },
        { "/health/ready", 503, LogEventLevel.Warning }, // failing probe: logged, but expected while models load
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void Level_follows_the_status_and_quiets_healthy_probes(string path, int status, LogEventLevel expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.StatusCode = status;
        Assert.Equal(expected, RequestLogging.Level(context, 1.0, null));
    }
}

/// <summary>A store missing an expected model: readiness fails, and the failing probe is logged.</summary>
public class FailingProbeLogTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap"], new Dictionary<string, string?>());

    [Fact]
    public async Task A_failing_readiness_probe_is_logged_as_a_warning()
    {
        var response = await _factory.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await response.Content.ReadAsStringAsync();

        var e = _factory.Logs.RequestEvent("GET", "/health/ready");
        Assert.Equal(LogEventLevel.Warning, e.Level);
        Assert.Equal(503, LogCapture.Scalar(e, "StatusCode"));
    }

    public void Dispose() => _factory.Dispose();
}
