using System.Diagnostics.Metrics;
using KeypointService.Api.Beds.Live;
using KeypointService.Models.Diagnostics;
using KeypointService.Models.Inference.Batching;
using KeypointService.Models.Onnx;
using KeypointService.Models.Serving;
using Prometheus;

namespace KeypointService.Api.Infrastructure.Metrics;

/// <summary>
/// The service's Prometheus series (docs/metrics.md), in a registry of its own per application so that
/// two hosts in one process (the functional tests) count apart. The model store's System.Diagnostics.Metrics
/// instruments (<see cref="ModelMetrics"/>) are bridged here by a MeterListener that listens to that store's
/// Meter only, so prometheus-net's generic Meter adapter (gauges that expire) is not used for them.
/// </summary>
public sealed class ServiceMetrics : IDisposable
{
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16); // 0.5 ms .. 16 s
    private readonly MeterListener _listener = new();
    private readonly ModelStore _store;

    private readonly IServiceProvider _services;

    public ServiceMetrics(ModelStore store, IServiceProvider services)
    {
        _store = store;
        _services = services;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry); // process memory, CPU, threads; GC collections and heap size
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        Requests = factory.CreateCounter("kps_requests_total", "Requests by protocol, model, route and status",
            new CounterConfiguration { LabelNames = ["protocol", "model", "route", "status"] });
        RequestDuration = factory.CreateHistogram("kps_request_duration_seconds", "Total request latency, from the first middleware to the response",
            new HistogramConfiguration { LabelNames = ["protocol", "model", "route"], Buckets = LatencyBuckets });
        QueueWait = factory.CreateHistogram("kps_queue_wait_seconds", "Wait of each inference request in its model's batching queue, until its batch starts",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        QueueDepth = factory.CreateGauge("kps_queue_depth", "Requests waiting in the batching queues now");
        Preprocess = StageHistogram(factory, "kps_preprocess_duration_seconds", "Pre-processing (resize, normalisation) per inference call");
        Inference = StageHistogram(factory, "kps_inference_duration_seconds", "ONNX Runtime time per inference call");
        Postprocess = StageHistogram(factory, "kps_postprocess_duration_seconds", "Post-processing (decoding) per inference call");
        BatchSize = factory.CreateHistogram("kps_batch_size", "Items per inference call",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = [1, 2, 4, 8, 16, 32, 64, 128] });
        ModelLoaded = factory.CreateGauge("kps_model_loaded", "1 for each model version being served",
            new GaugeConfiguration { LabelNames = ["model", "version"] });
        OnnxSessionsOpen = factory.CreateGauge("kps_onnx_sessions_open", "ONNX Runtime sessions of this process not yet released (served versions and retired ones still running requests)");
        GcCommitted = factory.CreateGauge("kps_gc_committed_bytes", "Memory the .NET GC has committed for its heap as of the last collection (dotnet_total_memory_bytes counts live objects only)");
        ModelLoads = factory.CreateCounter("kps_model_loads_total", "Model version loads (at start and hot reloads) by outcome",
            new CounterConfiguration { LabelNames = ["model", "outcome"] });
        LiveNotRelayed = factory.CreateCounter("kps_bed_live_not_relayed_total",
            "Bed live pushes this replica could not hand to the other replicas (PostgreSQL store only: too large for NOTIFY, queue overflow, database unreachable)");

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, store.Metrics.Meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => StageOf(instrument.Name)?.WithLabels(Tag(tags, "model")).Observe(value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (instrument.Name == ModelMetrics.BatchSize) BatchSize.WithLabels(Tag(tags, "model")).Observe(value);
        });
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == ModelMetrics.Loads) ModelLoads.WithLabels(Tag(tags, "model"), Tag(tags, "outcome")).IncTo(value);
        });
        _listener.Start();
        Registry.AddBeforeCollectCallback(BeforeCollect);
    }

    public CollectorRegistry Registry { get; }
    public Counter Requests { get; }
    public Histogram RequestDuration { get; }
    public Histogram QueueWait { get; }
    public Gauge QueueDepth { get; }
    public Histogram Preprocess { get; }
    public Histogram Inference { get; }
    public Histogram Postprocess { get; }
    public Histogram BatchSize { get; }
    public Gauge ModelLoaded { get; }
    public Counter ModelLoads { get; }
    public Gauge OnnxSessionsOpen { get; }
    public Gauge GcCommitted { get; }
    public Counter LiveNotRelayed { get; }

    /// <summary>The model label for a name from a request: known models only, so made-up names cannot grow the series.</summary>
    public string ModelLabel(string? name) => name is not null && _store.GetStatus(name) is not null ? name : "";

    private static Histogram StageHistogram(MetricFactory factory, string name, string help) =>
        factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = ["model"], Buckets = LatencyBuckets });

    private Histogram? StageOf(string instrument) => instrument switch
    {
        ModelMetrics.PreprocessDuration => Preprocess,
        ModelMetrics.InferenceDuration => Inference,
        ModelMetrics.PostprocessDuration => Postprocess,
        _ => null,
    };

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags) if (tag.Key == key) return tag.Value?.ToString() ?? "";
        return "";
    }

    private void BeforeCollect()
    {
        // Resolved late: the scheduler reports its queue waits here, so it cannot be a constructor argument.
        QueueDepth.Set(_services.GetService<InferenceScheduler>()?.QueueDepth ?? 0);
        _listener.RecordObservableInstruments(); // cumulative load counts
        OnnxSessionsOpen.Set(OnnxSession.OpenSessions);
        GcCommitted.Set(GC.GetGCMemoryInfo().TotalCommittedBytes);
        if (_services.GetService<PostgresLiveRelay>() is { } relay) LiveNotRelayed.IncTo(relay.NotRelayed);
        foreach (var labels in ModelLoaded.GetAllLabelValues()) ModelLoaded.RemoveLabelled(labels);
        foreach (var status in _store.GetStatuses())
            if (status.ServingVersion is { } version) ModelLoaded.WithLabels(status.Name, version).Set(1);
    }

    public void Dispose() => _listener.Dispose();
}
