using KeypointService.Api.Apis;
using KeypointService.Api.Inputs;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Infrastructure;

/// <summary>
/// Turns every failure into an RFC 7807 problem: the request's own faults with their status,
/// overload as 503 with Retry-After, anything unexpected as a 500 without internals (logged in full).
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            if (e is OperationCanceledException && context.RequestAborted.IsCancellationRequested) return; // the client left
            var problem = e switch
            {
                RequestProblemException p => Problems.Create(context, p.Status, p.Title, p.Message),
                BadHttpRequestException b => Problems.Create(context, b.StatusCode,
                    b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload too large" : "Bad request", b.Message),
                OverloadedException o => Overloaded(context, o),
                ModelUnavailableException m => Problems.Create(context, StatusCodes.Status503ServiceUnavailable, "Model unavailable", m.Message),
                _ => Unexpected(context, e),
            };
            context.Response.Clear();
            context.Response.StatusCode = problem.Status!.Value;
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
        }
    }

    private static ProblemDetails Overloaded(HttpContext context, OverloadedException e)
    {
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.RetryAfter = e.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        return Problems.Create(context, StatusCodes.Status503ServiceUnavailable, "Service overloaded", e.Message);
    }

    private ProblemDetails Unexpected(HttpContext context, Exception e)
    {
        logger.LogError(e, "Unhandled error for {Method} {Path}", context.Request.Method, context.Request.Path);
        return Problems.Create(context, StatusCodes.Status500InternalServerError, "Internal error",
            $"the request failed unexpectedly; quote trace id {context.TraceIdentifier} when reporting it");
    }
}
