using System.Diagnostics;
using KeypointService.Models.Serving;

namespace KeypointService.Api.Infrastructure;

/// <summary>
/// One structured log line per request: method, path, status, latency, and for predictions the
/// model, version, input size and item count (added by the handler through <see cref="Annotate"/>).
/// </summary>
public sealed class RequestLog(RequestDelegate next, ILogger<RequestLog> logger)
{
    private sealed record Annotation(string Model, string Version, int Width, int Height, int Items);

    public static void Annotate(HttpContext context, LoadedModel model, int width, int height, int items) =>
        context.Items[typeof(Annotation)] = new Annotation(model.Manifest.Name, model.Manifest.Version, width, height, items);

    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var status = context.Response.StatusCode;
            var probe = context.Request.Path.StartsWithSegments("/health");
            var level = status >= 500 && !probe ? LogLevel.Error : status >= 400 ? LogLevel.Warning : LogLevel.Information;
            if (context.Items[typeof(Annotation)] is Annotation a)
                logger.Log(level, "{Method} {Path} {StatusCode} in {ElapsedMs:0.000} ms model={Model} version={Version} size={Width}x{Height} items={Items}",
                    context.Request.Method, context.Request.Path.Value, status, elapsed, a.Model, a.Version, a.Width, a.Height, a.Items);
            else if (!probe || status >= 400)
                logger.Log(level, "{Method} {Path} {StatusCode} in {ElapsedMs:0.000} ms",
                    context.Request.Method, context.Request.Path.Value, status, elapsed);
        }
    }
}
