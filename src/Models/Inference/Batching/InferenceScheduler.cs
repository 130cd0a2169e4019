using System.Collections.Concurrent;
using KeypointService.Models.Inputs;
using KeypointService.Models.Serving;

namespace KeypointService.Models.Inference.Batching;

/// <summary>One input to run on one loaded model version, with the outputs its caller wants.</summary>
public sealed record InferenceRequest(LoadedModel Model, InputMap Input, PredictionOptions Options);

/// <summary>
/// Every inference of the service goes through here (/v1 predict and predict-batch, /v2, gRPC): one
/// <see cref="DynamicBatcher{TRequest,TResult}"/> per model name, whose batches run on one loaded
/// version at a time (requests of an older and a newer version never share a batch).
/// </summary>
public sealed class InferenceScheduler(Func<string, bool, BatchingPolicy> policyFor, Action<string, BatchDispatch>? observe = null) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<DynamicBatcher<InferenceRequest, Prediction>>> _batchers = new();

    /// <summary>Requests waiting in every model's queue.</summary>
    public int QueueDepth => _batchers.Values.Where(b => b.IsValueCreated).Sum(b => b.Value.QueueDepth);

    /// <summary>
    /// Runs one input; completes with its prediction, its own error, or an <see cref="OverloadException"/>
    /// when the model's queue is full or the request waited too long.
    /// </summary>
    public Task<Prediction> RunAsync(InferenceRequest request, CancellationToken cancellation = default) =>
        BatcherOf(request.Model).RunAsync(request, cancellation);

    private DynamicBatcher<InferenceRequest, Prediction> BatcherOf(LoadedModel model)
    {
        var manifest = model.Manifest;
        return _batchers.GetOrAdd(manifest.Name, name => new Lazy<DynamicBatcher<InferenceRequest, Prediction>>(() =>
            new DynamicBatcher<InferenceRequest, Prediction>(name, policyFor(name, manifest.Input.DynamicBatch), Execute,
                compatible: (a, b) => ReferenceEquals(a.Model, b.Model),
                observe: observe is null ? null : dispatch => observe(name, dispatch)))).Value;
    }

    // One inference over the batch computes the union of the requested outputs; each request gets what it asked for.
    private static IReadOnlyList<Prediction> Execute(IReadOnlyList<InferenceRequest> batch)
    {
        var union = new PredictionOptions(
            batch.Any(r => r.Options.IncludeHeatmaps),
            batch.Any(r => r.Options.IncludeReconstruction),
            batch.SelectMany(r => r.Options.RawOutputs ?? []).Distinct().ToArray() is { Length: > 0 } raw ? raw : null);
        var predictions = KeypointPredictor.Predict(batch[0].Model, batch.Select(r => r.Input).ToList(), union);
        return batch.Select((request, i) => Trim(predictions[i], request.Options)).ToList();
    }

    private static Prediction Trim(Prediction p, PredictionOptions asked) => p with
    {
        Heatmaps = asked.IncludeHeatmaps ? p.Heatmaps : null,
        Reconstruction = asked.IncludeReconstruction ? p.Reconstruction : null,
        RawOutputs = asked.RawOutputs is { Count: > 0 } names && p.RawOutputs is { } raw
            ? raw.Where(o => names.Contains(o.Name)).ToList()
            : null,
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var batcher in _batchers.Values.Where(b => b.IsValueCreated))
            await batcher.Value.DisposeAsync();
    }
}
