using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using KeypointService.Models.Inference;

namespace KeypointService.Models.Diagnostics;

/// <summary>
/// What the inference core measures, as System.Diagnostics.Metrics instruments, so that src/Models
/// needs no exporter: the service bridges them to Prometheus (src/Api/Infrastructure/Metrics).
/// One instance (and Meter) per <see cref="Serving.ModelStore"/>, so two stores in one process
/// (the functional tests run several) keep separate counts.
/// </summary>
public sealed class ModelMetrics : IDisposable
{
    public const string MeterName = "KeypointService.Models";
    /// <summary>Histogram, seconds, tag <c>model</c>: resize and normalisation of a whole inference call.</summary>
    public const string PreprocessDuration = "kps.preprocess.duration";
    /// <summary>Histogram, seconds, tag <c>model</c>: the ONNX Runtime calls.</summary>
    public const string InferenceDuration = "kps.inference.duration";
    /// <summary>Histogram, seconds, tag <c>model</c>: decoding into the caller's coordinates.</summary>
    public const string PostprocessDuration = "kps.postprocess.duration";
    /// <summary>Histogram, items, tag <c>model</c>: inputs per inference call.</summary>
    public const string BatchSize = "kps.batch.size";
    /// <summary>
    /// Observable counter, tags <c>model</c> and <c>outcome</c> (success | failure): attempts to load a model
    /// version, at start and on hot reload. Observable (cumulative, read when collected) so that a listener
    /// attached after the first loads still sees them.
    /// </summary>
    public const string Loads = "kps.model.loads";

    private readonly Histogram<double> _preprocess;
    private readonly Histogram<double> _inference;
    private readonly Histogram<double> _postprocess;
    private readonly Histogram<int> _batchSize;
    private readonly ConcurrentDictionary<(string Model, string Outcome), long> _loads = new();

    public ModelMetrics()
    {
        Meter = new Meter(MeterName);
        _preprocess = Meter.CreateHistogram<double>(PreprocessDuration, "s", "Pre-processing time per inference call");
        _inference = Meter.CreateHistogram<double>(InferenceDuration, "s", "ONNX Runtime time per inference call");
        _postprocess = Meter.CreateHistogram<double>(PostprocessDuration, "s", "Post-processing time per inference call");
        _batchSize = Meter.CreateHistogram<int>(BatchSize, "{item}", "Inputs per inference call");
        Meter.CreateObservableCounter(Loads, ObserveLoads, "{load}", "Model version loads by outcome");
    }

    /// <summary>For a model loaded outside a store (tests): a meter no store's listener watches.</summary>
    internal static ModelMetrics Detached { get; } = new();

    /// <summary>This store's meter; a listener tells it apart from other stores' by reference.</summary>
    public Meter Meter { get; }

    internal void RecordInference(string model, int items, InferenceTimings timings)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        _batchSize.Record(items, tag);
        _preprocess.Record(timings.PreprocessMs / 1000, tag);
        _inference.Record(timings.InferenceMs / 1000, tag);
        _postprocess.Record(timings.PostprocessMs / 1000, tag);
    }

    internal void RecordLoad(string model, bool success) =>
        _loads.AddOrUpdate((model, success ? "success" : "failure"), 1, (_, n) => n + 1);

    private IEnumerable<Measurement<long>> ObserveLoads() =>
        _loads.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("model", p.Key.Model), new KeyValuePair<string, object?>("outcome", p.Key.Outcome)));

    public void Dispose() => Meter.Dispose();
}
