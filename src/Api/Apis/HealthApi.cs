using KeypointService.Api.Contracts;
using KeypointService.Models.Serving;
using Microsoft.AspNetCore.Http.HttpResults;

namespace KeypointService.Api.Apis;

/// <summary>Liveness and readiness probes.</summary>
public static class HealthApi
{
    public static RouteGroupBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health");
        group.MapGet("/live", () => TypedResults.Ok(new LivenessReport("live")))
            .WithName("Live")
            .WithSummary("Liveness: the process is up")
            .WithDescription("Always 200 while the process serves HTTP; it does not look at models.");
        group.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("Readiness: every non-optional model is loaded")
            .WithDescription("200 when every model that is expected and not optional is being served; otherwise 503 with each model's state and error.");
        return group;
    }

    public static Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>> Ready(ModelStore store)
    {
        var models = store.GetStatuses()
            .Select(s => new ModelReadiness(s.Name, s.State.ToString().ToLowerInvariant(), s.ServingVersion, s.Optional, s.Error))
            .ToList();
        return store.IsReady
            ? TypedResults.Ok(new ReadinessReport("ready", models))
            : TypedResults.Json(new ReadinessReport("not_ready", models), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
