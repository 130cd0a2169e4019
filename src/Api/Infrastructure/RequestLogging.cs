using System.Globalization;
using KeypointService.Models.Serving;
using Serilog;
using Serilog.AspNetCore;
using Serilog.Events;

namespace KeypointService.Api.Infrastructure;

/// <summary>
/// The one log line per request, written by Serilog's request-logging middleware: method, path,
/// status and latency, plus what the request was about. Handlers and <see cref="Problems.Create"/>
/// only note facts on the <see cref="HttpContext"/>; <see cref="Enrich"/> turns them into
/// <see cref="IDiagnosticContext"/> properties once the final status is known, so a problem
/// built for one bad item of a 200 batch response does not mark the request as failed.
/// </summary>
public static class RequestLogging
{
    public const string MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.000} ms{Summary:l}";

    private sealed record Prediction(string Model, string Version, int Width, int Height, int Items);
    private sealed record Problem(string Detail);

    /// <summary>Notes which model served the request, the (first) input's size and the item count.</summary>
    public static void AnnotatePrediction(HttpContext context, LoadedModel model, int width, int height, int items) =>
        context.Items[typeof(Prediction)] = new Prediction(model.Manifest.Name, model.Manifest.Version, width, height, items);

    /// <summary>Notes a problem document's detail; logged only if the response ends as a 4xx/5xx.</summary>
    internal static void NoteProblem(HttpContext context, string detail) =>
        context.Items[typeof(Problem)] = new Problem(detail);

    public static void Configure(RequestLoggingOptions options, Serilog.ILogger logger)
    {
        options.Logger = logger; // the DI logger, not the static Log: several test hosts may run at once
        options.MessageTemplate = MessageTemplate;
        options.GetLevel = Level;
        options.EnrichDiagnosticContext = Enrich;
    }

    /// <summary>
    /// 5xx error, 4xx warning, else information; health probes only when they fail, and a failing
    /// probe is a warning (not-ready is expected while models load).
    /// </summary>
    public static LogEventLevel Level(HttpContext context, double elapsedMs, Exception? exception)
    {
        var status = context.Response.StatusCode;
        var probe = context.Request.Path.StartsWithSegments("/health");
        if (probe)
            // Verbose sits below the configured minimum (Information), so healthy probes are not written.
            return status >= 400 || exception is not null ? LogEventLevel.Warning : LogEventLevel.Verbose;
        if (status >= 500 || exception is not null) return LogEventLevel.Error;
        return status >= 400 ? LogEventLevel.Warning : LogEventLevel.Information;
    }

    public static void Enrich(IDiagnosticContext diagnostics, HttpContext context)
    {
        var summary = "";
        if (context.Items[typeof(Prediction)] is Prediction p)
        {
            diagnostics.Set("Model", p.Model);
            diagnostics.Set("Version", p.Version);
            diagnostics.Set("Width", p.Width);
            diagnostics.Set("Height", p.Height);
            diagnostics.Set("Items", p.Items);
            summary += string.Create(CultureInfo.InvariantCulture, $" model={p.Model} version={p.Version} size={p.Width}x{p.Height} items={p.Items}");
        }
        // The API key's name, never the key: the secret is only ever hashed (docs/security.md).
        if (context.User.Identity is { IsAuthenticated: true, Name: { } key })
        {
            diagnostics.Set("ApiKey", key);
            summary += $" key={key}";
        }
        if (context.Response.StatusCode >= 400 && context.Items[typeof(Problem)] is Problem problem)
        {
            diagnostics.Set("ProblemDetail", problem.Detail);
            summary += $" detail=\"{problem.Detail}\"";
        }
        // Always set: a message-template property that is missing renders as its raw "{Summary}" token.
        diagnostics.Set("Summary", summary);
    }
}
