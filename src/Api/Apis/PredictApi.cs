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

    public sealed class PredictServices(ModelStore store, InferenceGate gate, RequestBodyReader reader, IOptions<InferenceOptions> inference)
    {
        public ModelStore Store { get; } = store;
        public InferenceGate Gate { get; } = gate;
        public RequestBodyReader Reader { get; } = reader;
        public InferenceOptions Inference { get; } = inference.Value;
    }

    public static async Task<Results<Ok<PredictResponse>, ProblemHttpResult>> PredictAsync(
        string name, HttpContext context, [AsParameters] PredictParameters parameters, [FromServices] PredictServices services, CancellationToken cancellation)
    {
        using var lease = AcquireModel(services.Store, name);
        var (map, outputs) = await services.Reader.ReadSingleAsync(context.Request, cancellation);
        RequestLogging.AnnotatePrediction(context, lease.Model, map.Width, map.Height, 1);
        Prediction prediction;
        using (await services.Gate.EnterAsync(cancellation))
            prediction = KeypointPredictor.Predict(lease.Model, [map], outputs.ToPredictionOptions())[0];
        return TypedResults.Ok(ResponseMapper.ToResponse(lease.Model.Manifest, prediction, outputs.Format));
    }

    public static async Task<Results<Ok<PredictBatchResponse>, ProblemHttpResult>> PredictBatchAsync(
        string name, HttpContext context, [FromServices] PredictServices services, CancellationToken cancellation)
    {
        using var lease = AcquireModel(services.Store, name);
        var query = RequestBodyReader.QuerySelection(context.Request);
        using var document = await services.Reader.ReadJsonAsync(context.Request, cancellation);
        var items = ReadItems(document.RootElement, services.Inference.MaxBatchItems);

        // Parse every item; a bad item gets its own problem and does not fail the others.
        var results = new BatchItemResult?[items.Count];
        var valid = new List<(int Index, InputMap Map, OutputSelection Outputs)>();
        for (var i = 0; i < items.Count; i++)
        {
            try
            {
                var (map, outputs) = JsonInputParser.ReadInput(items[i], $"items[{i}]", query);
                valid.Add((i, map, outputs));
            }
            catch (RequestProblemException e)
            {
                results[i] = new BatchItemResult(i, null, Problems.Create(context, e.Status, e.Title, e.Message));
            }
        }
        RequestLogging.AnnotatePrediction(context, lease.Model, valid.Count > 0 ? valid[0].Map.Width : 0, valid.Count > 0 ? valid[0].Map.Height : 0, items.Count);

        if (valid.Count > 0)
        {
            var options = new PredictionOptions(valid.Any(v => v.Outputs.Heatmaps), valid.Any(v => v.Outputs.Reconstruction));
            IReadOnlyList<Prediction> predictions;
            using (await services.Gate.EnterAsync(cancellation))
                predictions = KeypointPredictor.Predict(lease.Model, valid.Select(v => v.Map).ToList(), options);
            for (var j = 0; j < valid.Count; j++)
            {
                var (index, _, outputs) = valid[j];
                // The batch computed the union of requested outputs; return each item only what it asked for.
                var p = predictions[j] with
                {
                    Heatmaps = outputs.Heatmaps ? predictions[j].Heatmaps : null,
                    Reconstruction = outputs.Reconstruction ? predictions[j].Reconstruction : null,
                };
                results[index] = new BatchItemResult(index, ResponseMapper.ToResponse(lease.Model.Manifest, p, outputs.Format), null);
            }
        }
        var manifest = lease.Model.Manifest;
        return TypedResults.Ok(new PredictBatchResponse(manifest.Name, manifest.Version, results.Select(r => r!).ToList()));
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

    private static ModelLease AcquireModel(ModelStore store, string name)
    {
        var lease = store.TryAcquire(name, out var status);
        if (lease is not null) return lease;
        if (status is null)
            throw new RequestProblemException(StatusCodes.Status404NotFound, "Unknown model",
                $"no model named '{name}'; GET /v1/models lists the models");
        throw new ModelUnavailableException($"model '{name}' is not loaded ({status.State.ToString().ToLowerInvariant()}{(status.Error is null ? "" : $": {status.Error}")})");
    }
}

/// <summary>Query parameters shared by every predict body type.</summary>
public sealed class PredictParameters
{
    /// <summary>Extra outputs, comma-separated or repeated: heatmaps, reconstruction.</summary>
    [FromQuery(Name = "include")] public string[]? Include { get; init; }
    /// <summary>array (default) or png: how heatmaps and reconstructions are returned.</summary>
    [FromQuery(Name = "map_format")] public string? MapFormat { get; init; }
    /// <summary>Width of an application/octet-stream body (float32 values per row).</summary>
    [FromQuery(Name = "width")] public string? Width { get; init; }
    /// <summary>Height of an application/octet-stream body (rows).</summary>
    [FromQuery(Name = "height")] public string? Height { get; init; }
}

/// <summary>The model exists but no version of it is loaded; 503.</summary>
public sealed class ModelUnavailableException(string detail) : Exception(detail);
