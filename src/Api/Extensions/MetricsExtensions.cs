using Grpc.AspNetCore.Server;
using KeypointService.Api.Infrastructure.Metrics;
using KeypointService.Api.Security;
using Prometheus;

namespace KeypointService.Api.Extensions;

/// <summary>Wiring of the Prometheus metrics (docs/metrics.md): the series, the request counting, and GET /metrics.</summary>
public static class MetricsExtensions
{
    public static void AddKeypointMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServiceMetrics>();
        builder.Services.AddTransient<IStartupFilter, RequestMetricsStartupFilter>();
        builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<GrpcRequestMetrics>());
    }

    public static void MapKeypointMetrics(this WebApplication app)
    {
        // Resolved now so that the meter listener is attached before the first request.
        var metrics = app.Services.GetRequiredService<ServiceMetrics>();
        // Text format, not JSON: described in docs/metrics.md rather than in the OpenAPI document.
        var endpoint = app.MapMetrics("/metrics", metrics.Registry).ExcludeFromDescription();
        // Open by default for scrapers; Security:MetricsRequireKey asks for an admin key (docs/security.md).
        if (app.Services.GetRequiredService<ApiKeyStore>().Options.MetricsRequireKey) endpoint.RequireAuthorization(ApiScopes.Admin);
    }

    /// <summary>Puts the request metrics before everything Program.cs adds, so they see the final status code.</summary>
    private sealed class RequestMetricsStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseMiddleware<HttpRequestMetrics>();
            next(app);
        };
    }
}
