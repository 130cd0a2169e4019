using System.Net;
using System.Text.Json.Nodes;
using KeypointService.Api.Security;
using Microsoft.AspNetCore.TestHost;

namespace KeypointService.Api.Tests.Security;

/// <summary>
/// Behind a proxy (ForwardedHeaders:KnownProxies) anonymous callers get their own rate-limit buckets and
/// problem documents name them; from anyone else X-Forwarded-For is ignored, and it is ignored by default.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string Proxy = "10.0.0.5", Stranger = "10.0.0.9";

    // Security off (Development): anonymous buckets per client address, one token refilled every 1000 s.
    private static ApiFactory Host(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Security:RateLimit:PermitsPerSecond"] = "0.001",
            ["Security:RateLimit:Burst"] = "1",
        };
        foreach (var (k, v) in extra) settings[k] = v;
        return new ApiFactory(["heatmap", "regression"], settings);
    }

    private static async Task<(int Status, string Detail)> GetModels(ApiFactory host, string remote, string? forwardedFor)
    {
        var context = await host.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = "/v1/models";
            c.Connection.RemoteIpAddress = IPAddress.Parse(remote);
            if (forwardedFor is not null) c.Request.Headers["X-Forwarded-For"] = forwardedFor;
        });
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        var detail = context.Response.StatusCode == 429 ? JsonNode.Parse(body)!["detail"]!.GetValue<string>() : "";
        return (context.Response.StatusCode, detail);
    }

    [Fact]
    public async Task Behind_a_known_proxy_each_forwarded_client_has_its_own_bucket()
    {
        using var host = Host(("ForwardedHeaders:KnownProxies:0", Proxy));
        Assert.Equal(200, (await GetModels(host, Proxy, "203.0.113.7")).Status);
        var refused = await GetModels(host, Proxy, "203.0.113.7");
        Assert.Equal(429, refused.Status);
        Assert.StartsWith("client 203.0.113.7 is over its rate limit", refused.Detail);
        Assert.Equal(200, (await GetModels(host, Proxy, "203.0.113.8")).Status); // another client, another bucket
        // only the last hop is read (ForwardLimit 1): a client cannot pick its bucket by prepending addresses
        Assert.Equal(429, (await GetModels(host, Proxy, "198.51.100.1, 203.0.113.8")).Status);
    }

    [Fact]
    public async Task The_header_from_an_unknown_sender_is_ignored()
    {
        using var host = Host(("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/30")); // 10.0.0.0-3: not the stranger
        Assert.Equal(200, (await GetModels(host, Stranger, "203.0.113.7")).Status);
        var refused = await GetModels(host, Stranger, "203.0.113.8");
        Assert.Equal(429, refused.Status);
        Assert.StartsWith($"client {Stranger} is over its rate limit", refused.Detail);
    }

    [Fact]
    public async Task Without_configuration_no_one_can_choose_their_address()
    {
        using var host = Host();
        Assert.Equal(200, (await GetModels(host, Proxy, "203.0.113.7")).Status);
        var refused = await GetModels(host, Proxy, "203.0.113.8");
        Assert.Equal(429, refused.Status);
        Assert.StartsWith($"client {Proxy} is over its rate limit", refused.Detail);
    }

    [Fact]
    public void A_malformed_proxy_list_is_named_in_one_line()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersSettings { KnownProxies = ["10.0.0.5", "nginx"] }.Parse());
        Assert.Equal("ForwardedHeaders:KnownProxies: 'nginx' is not an IP address", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersSettings { KnownNetworks = ["10.0.0.0/33"] }.Parse());
        Assert.StartsWith("ForwardedHeaders:KnownNetworks: '10.0.0.0/33' is not a CIDR network", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersSettings { KnownProxies = ["10.0.0.5"], ForwardLimit = 0 }.Parse());
        Assert.Equal("ForwardedHeaders:ForwardLimit must be at least 1, not 0", e.Message);
    }

    [Fact]
    public void A_malformed_proxy_list_stops_start_up()
    {
        using var host = Host(("ForwardedHeaders:KnownProxies:0", "nginx"));
        Assert.ThrowsAny<Exception>(() => host.Server); // Program prints the one line above and exits 1
    }
}
