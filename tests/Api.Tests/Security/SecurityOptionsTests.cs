using System.Net;
using KeypointService.Api.Security;
using Serilog.Events;

namespace KeypointService.Api.Tests.Security;

/// <summary>What the options switch: metrics behind an admin key, the key's name (never the key) in the log, refusals at start-up.</summary>
public sealed class SecurityOptionsTests
{
    [Fact]
    public async Task Metrics_need_an_admin_key_when_MetricsRequireKey_is_set()
    {
        using var host = new SecureHost(new Dictionary<string, string?> { ["Security:MetricsRequireKey"] = "true" });
        await ProblemAssert.IsProblem(await host.Client().GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblem(await host.Client(SecureHost.Predictor).GetAsync("/metrics"), HttpStatusCode.Forbidden);
        var scrape = await host.Client(SecureHost.Ops, bearer: true).GetAsync("/metrics"); // Prometheus sends a bearer token
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE", await scrape.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await host.Client().GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task With_security_off_everything_is_open_whatever_header_comes()
    {
        using var factory = new ApiFactory();
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", "anything");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(32, 24)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().GetAsync("/v1/beds")).StatusCode);
    }

    [Fact]
    public async Task The_request_log_names_the_key_and_never_holds_the_secret()
    {
        using var host = new SecureHost();
        var secret = host.Keys[SecureHost.Predictor];
        Assert.Equal(HttpStatusCode.OK, (await host.Client(SecureHost.Predictor).PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(32, 24)))).StatusCode);
        var logged = host.Factory.Logs.RequestEvent("POST", "/v1/models/heatmap/predict");
        Assert.Equal(SecureHost.Predictor, LogCapture.Scalar(logged, "ApiKey"));
        Assert.Contains($"key={SecureHost.Predictor}", logged.RenderMessage());

        // A wrong key (the secret with one character more) and a bearer one: refused, logged, never written out.
        var wrong = host.Factory.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-API-Key", secret + "Z");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(LogEventLevel.Warning, host.Factory.Logs.RequestEvent("GET", "/v1/models").Level);
        Assert.Equal(HttpStatusCode.OK, (await host.Client(SecureHost.Ward, bearer: true).GetAsync("/v1/beds")).StatusCode);
        host.Factory.Logs.RequestEvent("GET", "/v1/beds");

        var everything = host.Factory.Logs.AllEventsText();
        Assert.NotEmpty(everything);
        foreach (var key in host.Keys.Values) Assert.DoesNotContain(key, everything);
    }

    [Theory]
    [InlineData("true", null, null, "Security:Enabled is true but Security:ApiKeys is empty")]
    [InlineData("false", "not-a-hash", "predict", "Sha256 must be the key's SHA-256")]
    [InlineData("false", "0000000000000000000000000000000000000000000000000000000000000000", "everything", "Scopes has 'everything'")]
    public void Bad_configuration_is_refused_in_one_line(string enabled, string? hash, string? scope, string expected)
    {
        var options = new SecurityOptions { Enabled = bool.Parse(enabled) };
        if (hash is not null) options.ApiKeys.Add(new ApiKeyOptions { Name = "k", Sha256 = hash, Scopes = [scope!] });
        var e = Assert.Throws<InvalidOperationException>(() => new ApiKeyStore(options));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
