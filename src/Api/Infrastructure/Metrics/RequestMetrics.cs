using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace KeypointService.Api.Infrastructure.Metrics;

/// <summary>
/// Counts and times every HTTP request (/v1, /v2, probes, /metrics) by model, route pattern and status.
/// Placed first in the pipeline (through a startup filter) so that the status is the final one, after
/// the error handling middleware has turned exceptions into responses. gRPC calls are left to
/// <see cref="GrpcRequestMetrics"/>: their HTTP status is always 200.
/// </summary>
public sealed class HttpRequestMetrics(RequestDelegate next, ServiceMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            await next(context);
            return;
        }
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // Route patterns, not paths, keep the label set bounded; a path no endpoint matched is "unmatched".
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var model = metrics.ModelLabel(context.GetRouteValue("name") as string);
            var status = context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metrics.Requests.WithLabels("http", model, route, status).Inc();
            metrics.RequestDuration.WithLabels("http", model, route).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }
}

/// <summary>Counts and times gRPC calls by model (from the request message), method and gRPC status code.</summary>
public sealed class GrpcRequestMetrics(ServiceMetrics metrics) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var start = Stopwatch.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
            throw;
        }
        catch
        {
            status = StatusCode.Unknown;
            throw;
        }
        finally
        {
            var model = metrics.ModelLabel(request switch
            {
                Inference.ModelInferRequest r => r.ModelName,
                Inference.ModelMetadataRequest r => r.Name,
                Inference.ModelReadyRequest r => r.Name,
                _ => null,
            });
            metrics.Requests.WithLabels("grpc", model, context.Method, status.ToString()).Inc();
            metrics.RequestDuration.WithLabels("grpc", model, context.Method).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }
}
