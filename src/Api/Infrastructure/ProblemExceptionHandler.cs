using KeypointService.Api.Inputs;
using KeypointService.Models.Inference.Batching;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Infrastructure;

/// <summary>
/// The one boundary where exceptions become problem documents (through <see cref="IProblemDetailsService"/>,
/// so they share the style of every other problem): a refused request with its own status, overload as
/// 503 with Retry-After, a client that left as nothing, anything unexpected as a 500 without internals
/// (logged in full).
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellation)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            return true; // the client left: nobody to answer
        var problem = exception switch
        {
            RequestProblemException p => Problems.Create(context, p.Status, p.Title, p.Message),
            BadHttpRequestException b => Problems.Create(context, b.StatusCode,
                b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload too large" : "Bad request", b.Message),
            OverloadException o => Problems.Overloaded(context, o),
            _ => Unexpected(context, exception),
        };
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private ProblemDetails Unexpected(HttpContext context, Exception e)
    {
        logger.LogError(e, "Unhandled error for {Method} {Path}", context.Request.Method, context.Request.Path);
        return Problems.Create(context, StatusCodes.Status500InternalServerError, "Internal error",
            $"the request failed unexpectedly; quote trace id {context.TraceIdentifier} when reporting it");
    }
}
