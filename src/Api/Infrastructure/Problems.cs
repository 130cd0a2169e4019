using KeypointService.Api.Inputs;
using KeypointService.Models.Inference.Batching;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Infrastructure;

/// <summary>
/// RFC 7807 problem documents in one style for every error the API returns, the service's own and
/// the framework's (routing 404/405, body too large): <c>type</c>, <c>title</c>, <c>status</c>,
/// <c>detail</c>, <c>instance</c> and <c>traceId</c>.
/// </summary>
public static class Problems
{
    public const string TraceIdKey = "traceId";

    /// <summary>A problem for this request; handlers return it through <c>TypedResults.Problem</c>.</summary>
    public static ProblemDetails Create(HttpContext context, int status, string title, string detail)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        Complete(problem, context);
        return problem;
    }

    /// <summary>A refused request as a handler's typed result.</summary>
    public static ProblemHttpResult Result(HttpContext context, RequestProblemException e) =>
        TypedResults.Problem(Create(context, e.Status, e.Title, e.Message));

    /// <summary>Overload as a handler's typed result: 503 with Retry-After.</summary>
    public static ProblemHttpResult Result(HttpContext context, OverloadException e) => TypedResults.Problem(Overloaded(context, e));

    /// <summary>Overload: 503, with Retry-After on the response.</summary>
    public static ProblemDetails Overloaded(HttpContext context, OverloadException e)
    {
        context.Response.Headers.RetryAfter = e.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Create(context, StatusCodes.Status503ServiceUnavailable, "Service overloaded", e.Message);
    }

    /// <summary>Over a rate limit: 429, with Retry-After on the response.</summary>
    public static ProblemDetails RateLimited(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Create(context, StatusCodes.Status429TooManyRequests, "Too many requests", detail);
    }

    /// <summary>
    /// Fills in what every problem carries; registered as AddProblemDetails' CustomizeProblemDetails so
    /// that problems the framework writes itself come out in the same shape.
    /// </summary>
    public static void Complete(ProblemDetails problem, HttpContext context)
    {
        var status = problem.Status ?? context.Response.StatusCode;
        problem.Status = status;
        problem.Type = TypeFor(status);
        problem.Title ??= DefaultTitle(status);
        problem.Detail ??= DefaultDetail(status, context);
        problem.Instance = context.Request.Path.Value;
        // The framework adds its own trace id (as "traceId", serialised as "trace_id" under the
        // service's snake_case policy): keep one key, the request's identifier.
        problem.Extensions.Remove("trace_id");
        problem.Extensions[TraceIdKey] = context.TraceIdentifier;
        RequestLogging.NoteProblem(context, problem.Detail); // for the request's log line
    }

    public static string TypeFor(int status) => $"https://httpstatuses.io/{status}";

    private static string DefaultTitle(int status) => status switch
    {
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status405MethodNotAllowed => "Method not allowed",
        StatusCodes.Status413PayloadTooLarge => "Payload too large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
        _ => ReasonPhrases(status),
    };

    private static string ReasonPhrases(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    // Framework-written problems carry no detail; say what the caller can do about it.
    private static string DefaultDetail(int status, HttpContext context)
    {
        var request = $"{context.Request.Method} {context.Request.Path.Value}";
        return status switch
        {
            StatusCodes.Status404NotFound => $"no endpoint matches {request}; see /swagger for the API",
            StatusCodes.Status405MethodNotAllowed => context.Response.Headers.Allow.Count > 0
                ? $"{request} is not allowed; this path accepts {string.Join(", ", context.Response.Headers.Allow.ToArray())}"
                : $"{request} is not allowed on this path",
            _ => $"{request} failed with status {status}",
        };
    }
}
