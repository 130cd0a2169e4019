using System.Net;

namespace KeypointService.Api.Tests.Security;

/// <summary>CORS is off unless Cors:AllowedOrigins names origins; then only those get Access-Control-Allow-Origin.</summary>
public sealed class CorsTests
{
    private const string Ward = "https://ward.example", Other = "https://elsewhere.example";

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/models/heatmap/predict");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "x-api-key, content-type");
        return request;
    }

    [Fact]
    public async Task Without_configured_origins_no_response_has_cors_headers()
    {
        using var factory = new ApiFactory();
        var client = factory.CreateClient();
        var preflight = await client.SendAsync(Preflight(Ward));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        var get = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        get.Headers.Add("Origin", Ward);
        var response = await client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_configured_origin_gets_the_headers_and_another_does_not_even_with_security_on()
    {
        using var host = new SecureHost(new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = Ward + "/" });
        var client = host.Client();

        // The preflight carries no key (browsers never send one on it) and is answered before authorization.
        var preflight = await client.SendAsync(Preflight(Ward));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(Ward, Assert.Single(preflight.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("x-api-key", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        Assert.False((await client.SendAsync(Preflight(Other))).Headers.Contains("Access-Control-Allow-Origin"));

        // The actual request: allowed origin gets the header (and can read Retry-After); the key is still required.
        var keyed = host.Client(SecureHost.Predictor);
        var get = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        get.Headers.Add("Origin", Ward);
        var response = await keyed.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Ward, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("Retry-After", string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")));
        var unkeyed = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        unkeyed.Headers.Add("Origin", Ward);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(unkeyed)).StatusCode);
    }
}
