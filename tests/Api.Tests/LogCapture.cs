using Serilog.Core;
using Serilog.Events;

namespace KeypointService.Api.Tests;

/// <summary>
/// An in-memory Serilog sink. ApiFactory registers one per host as an ILogEventSink service, which the
/// service's logger picks up through ReadFrom.Services, so each test host sees only its own events.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    private const string RequestLogSource = "Serilog.AspNetCore.RequestLoggingMiddleware";
    private readonly List<LogEvent> _events = [];

    public void Emit(LogEvent logEvent)
    {
        lock (_events) { _events.Add(logEvent); Monitor.PulseAll(_events); }
    }

    /// <summary>Every event written so far, rendered as text without Serilog's quotes around string values.</summary>
    public IReadOnlyList<string> Messages()
    {
        lock (_events) return _events.Select(e => e.RenderMessage().Replace("\"", "")).ToList();
    }

    /// <summary>The request-log events written so far.</summary>
    public IReadOnlyList<LogEvent> RequestEvents()
    {
        lock (_events) return _events.Where(IsRequestEvent).ToList();
    }

    /// <summary>
    /// The one request-log event for <paramref name="method"/> <paramref name="path"/>. Normally already
    /// written when the response body has been read; the wait is only a bound so that a missing event
    /// fails the test instead of hanging it.
    /// </summary>
    public LogEvent RequestEvent(string method, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        lock (_events)
        {
            while (true)
            {
                var matches = _events.Where(e => IsRequestEvent(e) && Scalar(e, "RequestMethod") as string == method && Scalar(e, "RequestPath") as string == path).ToList();
                if (matches.Count > 0)
                {
                    Assert.True(matches.Count == 1, $"expected one request-log event for {method} {path}, got {matches.Count}");
                    return matches[0];
                }
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, $"no request-log event for {method} {path}; request events: {string.Join(" | ", _events.Where(IsRequestEvent).Select(e => e.RenderMessage()))}");
                Monitor.Wait(_events, left);
            }
        }
    }

    /// <summary>Every event so far as text: rendered message, properties and exception, one event per line.</summary>
    public string AllEventsText()
    {
        lock (_events)
            return string.Join('\n', _events.Select(e =>
                $"{e.RenderMessage()} {string.Join(' ', e.Properties.Select(p => $"{p.Key}={p.Value}"))} {e.Exception}"));
    }

    /// <summary>Forgets the events so far: a test class shares one host, and paths repeat between its tests.</summary>
    public void Clear()
    {
        lock (_events) _events.Clear();
    }

    public static object? Scalar(LogEvent e, string property) =>
        e.Properties.TryGetValue(property, out var value) && value is ScalarValue s ? s.Value : null;

    private static bool IsRequestEvent(LogEvent e) => Scalar(e, "SourceContext") as string == RequestLogSource;
}
