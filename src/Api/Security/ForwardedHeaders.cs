using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace KeypointService.Api.Security;

/// <summary>
/// Which reverse proxies may name the client (section <c>ForwardedHeaders</c>). Behind nginx
/// (deploy/nginx.conf) every caller otherwise has the proxy's address, so anonymous rate-limit
/// buckets, 429 messages and request logs would all name the proxy. Off while both lists are empty:
/// a client talking to the service directly must not be able to choose its own address.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Proxy addresses trusted to send X-Forwarded-For/-Proto, e.g. "10.0.0.5".</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR form, e.g. "10.0.0.0/8" (Kubernetes pod ranges).</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxy hops of X-Forwarded-For are read, right to left.</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Length > 0 || KnownNetworks.Length > 0;

    /// <summary>The parsed lists; a malformed entry throws with a one-line message naming it.</summary>
    public (IPAddress[] Proxies, System.Net.IPNetwork[] Networks) Parse()
    {
        if (ForwardLimit < 1)
            throw new InvalidOperationException($"ForwardedHeaders:ForwardLimit must be at least 1, not {ForwardLimit}");
        var proxies = KnownProxies.Select(p => IPAddress.TryParse(p.Trim(), out var ip) ? ip
            : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{p}' is not an IP address")).ToArray();
        var networks = KnownNetworks.Select(n => System.Net.IPNetwork.TryParse(n.Trim(), out var net) ? net
            : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{n}' is not a CIDR network such as 10.0.0.0/8")).ToArray();
        return (proxies, networks);
    }
}

public static class ForwardedHeadersExtensions
{
    /// <summary>Reads and checks the section now: a malformed address stops start-up with one line.</summary>
    public static void AddKeypointForwardedHeaders(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(ForwardedHeadersSettings.Section).Get<ForwardedHeadersSettings>() ?? new();
        if (!settings.Enabled) return;
        var (proxies, networks) = settings.Parse();
        builder.Services.AddSingleton(settings); // what UseKeypointForwardedHeaders checks: read once
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = settings.ForwardLimit;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear(); // the defaults trust loopback only; the configured lists replace them
            foreach (var ip in proxies) o.KnownProxies.Add(ip);
            foreach (var net in networks) o.KnownIPNetworks.Add(net);
        });
    }

    /// <summary>First in the pipeline, so logs, rate limits and problem documents see the client's address.</summary>
    public static WebApplication UseKeypointForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetService<ForwardedHeadersSettings>() is not null) app.UseForwardedHeaders();
        return app;
    }
}
