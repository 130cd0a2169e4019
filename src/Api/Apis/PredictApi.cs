using System.Text.Json;
using KeypointService.Api.Contracts;
using KeypointService.Api.Infrastructure;
using KeypointService.Api.Inputs;
using KeypointService.Models.Inference;
using KeypointService.Models.Inputs;
using KeypointService.Models.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Apis;

/// <summary>Prediction endpoints: one input, or a batch of JSON inputs run as one inference.</summary>
public static class PredictApi
{
    public static RouteGroupBuilder MapPredictApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Predict");

        group.MapPost("/{name}/predict", PredictAsync)
            .WithName("Predict")
            .WithSummary("Predict keypoints for one input")
            .WithDescription(ApiDocs.PredictDescription)
            .DisableAntiforgery();

        group.MapPost("/{name}/predict-batch", PredictBatchAsync)
            .WithName("PredictBatch")
            .WithSummary("Predict keypoints for several JSON inputs in one batched inference")
            .WithDescription(ApiDocs.PredictBatchDescription);

        return group;
    }

    public sealed class PredictServices(ModelStore store, InferenceGate gate, RequestBodyReader reader, IOptions<InferenceOptions> inference,
        ILogger<PredictServices> logger)
    {
        public ILogger Logger { get; } = logger;
        public ModelStore Store { get; } = store;
        public InferenceGate Gate { get; } = gate;
        public RequestBodyReader Reader { get; } = reader;
        public InferenceOptions Inference { get; } = inference.Value;
    }

    public static async Task<Results<Ok<PredictResponse>, ProblemHttpResult>> PredictAsync(
        string name, HttpContext context, [AsParameters] OutputQuery outputs, [AsParameters] RawSizeQuery rawSize,
        [FromServices] PredictServices services, CancellationToken cancellation)
    {
        if (services.Store.TryAcquire(name, out var status) is not { } lease) return NoModel(name, status, context);
        using (lease)
        {
            try
            {
                var input = await services.Reader.ReadSingleAsync(context.Request, outputs, rawSize, cancellation);
                input.Outputs.EnsureAvailableIn(lease.Model.Manifest);
                RequestLogging.AnnotatePrediction(context, lease.Model, input.Map.Width, input.Map.Height, 1);
                var warning = InputExpectations.Check(lease.Model.Manifest, input);
                if (warning is not null) services.Logger.LogWarning("{Warning}", warning);
                Prediction prediction;
                using (await services.Gate.EnterAsync(cancellation))
                    prediction = KeypointPredictor.Predict(lease.Model, [input.Map], input.Outputs.ToPredictionOptions())[0];
                var response = ResponseMapper.ToResponse(lease.Model.Manifest, prediction, input.Outputs.Format);
                return TypedResults.Ok(warning is null ? response : response with { Warnings = [warning] });
            }
            catch (RequestProblemException e) { return Problems.Result(context, e); }
            catch (OverloadedException e) { return Problems.Result(context, e); }
        }
    }

    public static async Task<Results<Ok<PredictBatchResponse>, ProblemHttpResult>> PredictBatchAsync(
        string name, HttpContext context, [AsParameters] OutputQuery outputs, [FromServices] PredictServices services, CancellationToken cancellation)
    {
        if (services.Store.TryAcquire(name, out var status) is not { } lease) return NoModel(name, status, context);
        using (lease)
        {
            try
            {
                var query = outputs.ToSelection();
                using var document = await services.Reader.ReadJsonAsync(context.Request, cancellation);
                var items = ReadItems(document.RootElement, services.Inference.MaxBatchItems);
                return TypedResults.Ok(await PredictItemsAsync(lease.Model, items, query, context, services, cancellation));
            }
            catch (RequestProblemException e) { return Problems.Result(context, e); }
            catch (OverloadedException e) { return Problems.Result(context, e); }
        }
    }

    private static async Task<PredictBatchResponse> PredictItemsAsync(LoadedModel model, List<JsonElement> items, OutputSelection query,
        HttpContext context, PredictServices services, CancellationToken cancellation)
    {
        // Parse every item; a bad item gets its own problem and does not fail the others.
        var results = new BatchItemResult?[items.Count];
        var valid = new List<(int Index, InputMap Map, OutputSelection Outputs)>();
        for (var i = 0; i < items.Count; i++)
        {
            try
            {
                var (map, selection) = JsonInputParser.ReadInput(items[i], $"items[{i}]", query);
                selection.EnsureAvailableIn(model.Manifest);
                valid.Add((i, map, selection));
            }
            catch (RequestProblemException e)
            {
                results[i] = new BatchItemResult(i, null, Problems.Create(context, e.Status, e.Title, e.Message));
            }
        }
        RequestLogging.AnnotatePrediction(context, model, valid.Count > 0 ? valid[0].Map.Width : 0, valid.Count > 0 ? valid[0].Map.Height : 0, items.Count);

        if (valid.Count > 0)
        {
            var options = new PredictionOptions(valid.Any(v => v.Outputs.Heatmaps), valid.Any(v => v.Outputs.Reconstruction));
            IReadOnlyList<Prediction> predictions;
            using (await services.Gate.EnterAsync(cancellation))
                predictions = KeypointPredictor.Predict(model, valid.Select(v => v.Map).ToList(), options);
            for (var j = 0; j < valid.Count; j++)
            {
                var (index, _, selection) = valid[j];
                // The batch computed the union of requested outputs; return each item only what it asked for.
                var p = predictions[j] with
                {
                    Heatmaps = selection.Heatmaps ? predictions[j].Heatmaps : null,
                    Reconstruction = selection.Reconstruction ? predictions[j].Reconstruction : null,
                };
                results[index] = new BatchItemResult(index, ResponseMapper.ToResponse(model.Manifest, p, selection.Format), null);
            }
        }
        return new PredictBatchResponse(model.Manifest.Name, model.Manifest.Version, results.Select(r => r!).ToList());
    }

    private static List<JsonElement> ReadItems(JsonElement root, int maxItems)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            throw RequestProblemException.BadInput("expected {\"items\": [ ... ]}");
        var count = items.GetArrayLength();
        if (count == 0) throw RequestProblemException.BadInput("items is empty");
        if (count > maxItems) throw RequestProblemException.BadInput($"items has {count} entries; the limit is {maxItems} (Inference:MaxBatchItems)");
        return items.EnumerateArray().ToList();
    }

    // The model is unknown (404) or known but not loaded (503): expected outcomes, returned as problems.
    private static ProblemHttpResult NoModel(string name, ModelStatus? status, HttpContext context) =>
        status is null
            ? TypedResults.Problem(Problems.Create(context, StatusCodes.Status404NotFound, "Unknown model",
                $"no model named '{name}'; GET /v1/models lists the models"))
            : TypedResults.Problem(Problems.Create(context, StatusCodes.Status503ServiceUnavailable, "Model unavailable",
                $"model '{name}' is not loaded ({status.State.ToString().ToLowerInvariant()}{(status.Error is null ? "" : $": {status.Error}")})"));
}
