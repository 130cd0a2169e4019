using System.Net;

namespace KeypointService.Client;

/// <summary>A non-2xx answer of the service, with its RFC 7807 problem and Retry-After when present.</summary>
public sealed class KeypointServiceException : HttpRequestException
{
    /// <summary>Creates the exception for an answer with <paramref name="status"/>.</summary>
    public KeypointServiceException(HttpStatusCode status, ServiceProblem problem, TimeSpan? retryAfter, string? body)
        : base(Describe(status, problem), null, status)
    {
        Problem = problem;
        RetryAfter = retryAfter;
        ResponseBody = body;
    }

    /// <summary>The HTTP status (also <see cref="HttpRequestException.StatusCode"/>).</summary>
    public HttpStatusCode Status => StatusCode ?? 0;

    /// <summary>The problem document (title and status from the HTTP answer when the body was not a problem).</summary>
    public ServiceProblem Problem { get; }

    /// <summary>Shortcut for <see cref="ServiceProblem.Detail"/>.</summary>
    public string? Detail => Problem.Detail;

    /// <summary>Shortcut for <see cref="ServiceProblem.Title"/>.</summary>
    public string? Title => Problem.Title;

    /// <summary>Shortcut for <see cref="ServiceProblem.TraceId"/>.</summary>
    public string? TraceId => Problem.TraceId;

    /// <summary>How long to wait before retrying (Retry-After, as a delay or a date), e.g. on 503 overloaded.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The response body as text (truncated to 64 KiB).</summary>
    public string? ResponseBody { get; }

    private static string Describe(HttpStatusCode status, ServiceProblem problem)
    {
        var text = $"{(int)status} {problem.Title ?? status.ToString()}";
        if (problem.Detail is { Length: > 0 } detail) text += $": {detail}";
        if (problem.TraceId is { Length: > 0 } trace) text += $" (trace {trace})";
        return text;
    }
}
