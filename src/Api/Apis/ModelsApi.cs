using KeypointService.Api.Contracts;
using KeypointService.Api.Infrastructure;
using KeypointService.Models.Serving;
using Microsoft.AspNetCore.Http.HttpResults;

namespace KeypointService.Api.Apis;

/// <summary>Model catalogue: what is served, on which provider, and what failed to load.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List the models in the store")
            .WithDescription("Every model known to the service (in the store or expected by configuration), with its served version, task, input spec, keypoints, links, execution provider and load state.");
        group.MapGet("/{name}", GetModel)
            .WithName("GetModel")
            .WithSummary("Describe one model")
            .WithDescription("The model's versions, task, input spec, keypoint names, links, metrics and training provenance from its manifest, execution provider and load state (with the error if its newest version failed to load).");
        return group;
    }

    public static Ok<IReadOnlyList<ModelInfo>> ListModels(ModelStore store) =>
        TypedResults.Ok<IReadOnlyList<ModelInfo>>(store.GetStatuses().Select(s => ModelInfo.From(s, detailed: false)).ToList());

    public static Results<Ok<ModelInfo>, ProblemHttpResult> GetModel(string name, ModelStore store, HttpContext context) =>
        store.GetStatus(name) is { } status
            ? TypedResults.Ok(ModelInfo.From(status, detailed: true))
            : TypedResults.Problem(Problems.Create(context, StatusCodes.Status404NotFound, "Unknown model", $"no model named '{name}'; GET /v1/models lists the models"));
}
