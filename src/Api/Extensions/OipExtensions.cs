using KeypointService.Api.Apis.Oip;
using KeypointService.Api.Inputs;
using KeypointService.Api.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KeypointService.Api.Extensions;

/// <summary>Configuration section "Grpc".</summary>
public sealed class GrpcOptions
{
    public const string Section = "Grpc";
    /// <summary>
    /// Where gRPC (HTTP/2 only, cleartext with prior knowledge) is served beside the HTTP/1.1 URLs; empty: no
    /// separate listener. Cleartext HTTP/2 needs a port of its own: Kestrel cannot tell h2c from HTTP/1.1 on one.
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:8081";
}

/// <summary>Wiring of the Open Inference Protocol v2: REST under /v2, gRPC GRPCInferenceService on its own HTTP/2 port.</summary>
public static class OipExtensions
{
    public static void AddOpenInferenceProtocol(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OipInference>();
        builder.Services.ConfigureSwaggerGen(o =>
        {
            o.OperationFilter<OipOpenApi>();
            o.SchemaFilter<OipOpenApi>();
        });
        var maxBody = builder.Configuration.GetSection(RequestOptions.Section).Get<RequestOptions>()?.MaxBodyBytes ?? new RequestOptions().MaxBodyBytes;
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = (int)Math.Min(maxBody, int.MaxValue));
        // what gRPC tooling expects of a server: reflection (grpcurl, Postman without the .proto) and the
        // standard health service (grpc.health.v1: Kubernetes gRPC probes, grpc_health_probe), which is
        // SERVING exactly when /health/ready is 200
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<ModelsReadyCheck>("models");

        var grpcUrl = builder.Configuration.GetSection(GrpcOptions.Section).Get<GrpcOptions>()?.Url ?? new GrpcOptions().Url;
        if (string.IsNullOrWhiteSpace(grpcUrl)) return;
        if (!Uri.TryCreate(grpcUrl.Replace("*", "0.0.0.0").Replace("+", "0.0.0.0"), UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new InvalidOperationException($"Grpc:Url must be an http:// URL with a port (cleartext HTTP/2), got '{grpcUrl}'");
        // Added to the URLs (--urls, ASPNETCORE_URLS or Kestrel's default) rather than through Listen(),
        // which would make Kestrel ignore them; the endpoint on the gRPC port then speaks HTTP/2 only.
        builder.WebHost.UseUrls($"{HttpUrls(builder.Configuration)};{grpcUrl}");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen =>
        {
            if (listen.IPEndPoint?.Port == uri.Port) listen.Protocols = HttpProtocols.Http2;
        }));
    }

    /// <summary>The URLs Kestrel would have used without the gRPC one: urls, else http_ports (container images), else its default.</summary>
    private static string HttpUrls(IConfiguration configuration)
    {
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls) return urls;
        if (configuration[WebHostDefaults.HttpPortsKey] is { Length: > 0 } ports)
            return string.Join(";", ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
        return "http://localhost:5000";
    }

    public static void MapOpenInferenceProtocol(this WebApplication app)
    {
        app.MapOipRestApi().RequireScope(ApiScopes.Predict); // its health probes stay open (OpenForProbes)
        app.MapGrpcService<OipGrpcService>().RequireScope(ApiScopes.Predict);
        app.MapGrpcReflectionService(); // open, like the REST probes and the OpenAPI document
        app.MapGrpcHealthChecksService().OpenForProbes();
    }

    /// <summary>Readiness for the gRPC health service: every expected, non-optional model is served.</summary>
    private sealed class ModelsReadyCheck(KeypointService.Models.Serving.ModelStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(store.IsReady ? HealthCheckResult.Healthy("every expected model is served")
                : HealthCheckResult.Unhealthy("an expected model is not served (GET /health/ready names it)"));
    }
}
