using Microsoft.AspNetCore.Mvc;

namespace KeypointService.Api.Infrastructure;

/// <summary>RFC 7807 problem documents, one shape for every error the API returns.</summary>
public static class Problems
{
    /// <summary>Builds the document and notes its detail for the request's log line (see <see cref="RequestLogging"/>).</summary>
    public static ProblemDetails Create(HttpContext context, int status, string title, string detail)
    {
        RequestLogging.NoteProblem(context, detail);
        return new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = $"https://httpstatuses.io/{status}",
            Instance = context.Request.Path,
            Extensions = { ["traceId"] = context.TraceIdentifier },
        };
    }
}
