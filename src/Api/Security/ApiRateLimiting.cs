using System.Threading.RateLimiting;
using KeypointService.Api.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;

namespace KeypointService.Api.Security;

/// <summary>
/// Per-key token buckets (ASP.NET Core's rate limiter): one bucket per API key, sized by the key's
/// PermitsPerSecond/Burst or Security:RateLimit; anonymous callers (security off) get one bucket per
/// remote IP. A refused request is a 429 problem with Retry-After; no request waits in a queue.
/// </summary>
public static class ApiRateLimiting
{
    public const string Policy = "per-key";

    public static void AddKeypointRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Policy, Partition);
            o.OnRejected = OnRejectedAsync;
        });

    private static RateLimitPartition<string> Partition(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<ApiKeyStore>();
        if (context.User.Identity is { IsAuthenticated: true, Name: { } name } && store.ByName(name) is { } key)
            return Bucket($"key:{key.Name}", key.PermitsPerSecond, key.Burst);
        var defaults = store.Options.RateLimit;
        return Bucket($"ip:{context.Connection.RemoteIpAddress}", defaults.PermitsPerSecond, defaults.Burst);
    }

    /// <summary>
    /// A bucket refilled with whole tokens: ceil(rate) tokens every ceil(rate)/rate seconds, so that a
    /// fractional rate (0.5/s: 1 token every 2 s) keeps its average. Rate 0: no limit.
    /// </summary>
    public static RateLimitPartition<string> Bucket(string partition, double permitsPerSecond, int burst)
    {
        if (permitsPerSecond <= 0) return RateLimitPartition.GetNoLimiter(partition);
        var tokensPerPeriod = (int)Math.Ceiling(permitsPerSecond);
        return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst > 0 ? burst : tokensPerPeriod,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokensPerPeriod / permitsPerSecond),
            QueueLimit = 0,
        });
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellation)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)) : 1;
        var who = context.User.Identity?.Name is { } name ? $"API key '{name}'" : $"client {context.Connection.RemoteIpAddress}";
        var problem = Problems.RateLimited(context, seconds, $"{who} is over its rate limit; retry after {seconds} s");
        if (ApiKeyAuthenticationHandler.IsGrpc(context.Request))
        {
            SecurityExtensions.NoStatusCodePage(context);
            return;
        }
        await TypedResults.Problem(problem).ExecuteAsync(context);
    }
}
