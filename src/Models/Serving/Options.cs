using KeypointService.Models.Inference.Batching;

namespace KeypointService.Models.Serving;

/// <summary>Configuration section "ModelStore".</summary>
public sealed class ModelStoreOptions
{
    public const string Section = "ModelStore";
    /// <summary>Store root holding {name}/{version}/manifest.json + model.onnx. Relative paths are resolved against the content root.</summary>
    public string Path { get; set; } = "models";
    /// <summary>Models the service must serve to be ready; a missing one is reported by /health/ready.</summary>
    /// <remarks>Empty here (appsettings.json lists the defaults): the configuration binder appends to a pre-filled list.</remarks>
    public List<string> Expected { get; set; } = [];
    /// <summary>Models that may be missing or broken without making the service unready.</summary>
    public List<string> Optional { get; set; } = [];
    /// <summary>
    /// Versions to serve instead of the newest, by model name ("ModelStore:Pinned:spmkd": "2"): a rollback
    /// without deleting the newer version, or a version chosen for its speed. A pinned version missing from the
    /// store is reported in the model's status and the version being served (if any) keeps serving. Followed when
    /// the configuration file is reloaded (no restart); a blank version unpins.
    /// </summary>
    public Dictionary<string, string> Pinned { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Watch the store and hot-reload new versions.</summary>
    public bool Watch { get; set; } = true;
    /// <summary>Rescan interval, a safety net beside the file-system watcher.</summary>
    public double PollSeconds { get; set; } = 2;
    /// <summary>
    /// After a hot reload, once the old version's last request has finished and its ONNX Runtime sessions are
    /// released, call glibc's malloc_trim(0) (on the thread pool) so that the pages they freed go back to the OS.
    /// Without it glibc keeps them in its malloc arenas and the resident set grew at each reload of heatmap
    /// (docs/reliability.md, "Memory across hot reloads"). No effect where glibc is not the C library.
    /// </summary>
    public bool TrimNativeHeap { get; set; } = true;
}

/// <summary>Configuration section "OnnxRuntime".</summary>
public sealed class OnnxRuntimeOptions
{
    public const string Section = "OnnxRuntime";
    /// <summary>"cpu" (default) or "cuda".</summary>
    public string ExecutionProvider { get; set; } = "cpu";
    public int CudaDeviceId { get; set; }
    /// <summary>Fail at start-up instead of falling back to CPU when the provider is unavailable.</summary>
    public bool ProviderRequired { get; set; }
    /// <summary>CUDA gpu_mem_limit in bytes for the provider's memory arena; 0 = no limit.</summary>
    public long GpuMemLimitBytes { get; set; }
    /// <summary>CUDA arena_extend_strategy: next_power_of_two (ORT's default) | same_as_requested (less memory held, more allocations).</summary>
    public string ArenaExtendStrategy { get; set; } = "next_power_of_two";
    /// <summary>CUDA cudnn_conv_algo_search: exhaustive (ORT's default, benchmarks each new input shape once) | heuristic | default.</summary>
    public string CudnnConvAlgoSearch { get; set; } = "exhaustive";
    /// <summary>Threads per inference; 1 lets concurrent requests use the cores instead of one request at a time.</summary>
    public int IntraOpThreads { get; set; } = 1;
    public int InterOpThreads { get; set; } = 1;
    /// <summary>disabled | basic | extended | all.</summary>
    public string GraphOptimization { get; set; } = "all";
    /// <summary>
    /// ONNX Runtime's CPU memory arena (SessionOptions.EnableCpuMemArena; ORT's default is on). Off, every inference
    /// allocates its intermediate tensors from malloc: the resident set measured higher and still grew across
    /// hot reloads (docs/reliability.md, "Memory across hot reloads").
    /// </summary>
    public bool CpuMemArena { get; set; } = true;
}

/// <summary>Configuration section "Inference".</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";
    /// <summary>Requests allowed to wait in one model's queue; beyond this they get 503 with Retry-After at once.</summary>
    public int MaxQueueLength { get; set; } = 256;
    /// <summary>How long a queued request waits before 503.</summary>
    public int QueueTimeoutMs { get; set; } = 10_000;
    /// <summary>Largest number of items in one predict-batch request (or one OIP input tensor).</summary>
    public int MaxBatchItems { get; set; } = 64;
    /// <summary>Dynamic batching, for every model and per model ("Inference:Batching:Models:{name}").</summary>
    public BatchingOptions Batching { get; set; } = new();

    /// <summary>
    /// The policy for one model: the defaults, then its own overrides; a model without a dynamic batch
    /// dimension runs one request at a time.
    /// </summary>
    public BatchingPolicy PolicyFor(string model, bool dynamicBatch)
    {
        var own = Batching.Models.GetValueOrDefault(model);
        var maxBatch = dynamicBatch ? own?.MaxBatchSize ?? Batching.MaxBatchSize : 1;
        return new BatchingPolicy
        {
            MaxBatchSize = maxBatch,
            MaxQueueDelay = TimeSpan.FromMicroseconds(own?.MaxQueueDelayMicroseconds ?? Batching.MaxQueueDelayMicroseconds),
            PreferredBatchSizes = (own?.PreferredBatchSizes ?? Batching.PreferredBatchSizes).Where(size => size <= maxBatch).ToArray(),
            Workers = (own?.Workers ?? Batching.Workers) is > 0 and var workers ? workers : Environment.ProcessorCount,
            MaxQueueLength = MaxQueueLength,
            QueueTimeout = TimeSpan.FromMilliseconds(QueueTimeoutMs),
        }.Validated(model);
    }
}

/// <summary>Dynamic batching defaults ("Inference:Batching"); see <see cref="BatchingPolicy"/>.</summary>
public sealed class BatchingOptions
{
    /// <summary>Largest batch of one model's requests run as one inference.</summary>
    public int MaxBatchSize { get; set; } = 8;
    /// <summary>
    /// Longest a request waits for others to join its batch. 0 (the default): a lone request runs at once, and
    /// requests that queue while a batch runs form the next batch.
    /// </summary>
    public int MaxQueueDelayMicroseconds { get; set; }
    /// <summary>Batch sizes dispatched at once without waiting out the delay.</summary>
    public List<int> PreferredBatchSizes { get; set; } = [];
    /// <summary>
    /// Batches of one model running at once; 0 (the default) = one per core. With one intra-op thread each
    /// this measured the best throughput on 2 cores (docs/benchmarks.md, threading options).
    /// </summary>
    public int Workers { get; set; }
    /// <summary>Per-model overrides, by model name.</summary>
    public Dictionary<string, BatchingOverrides> Models { get; set; } = [];
}

/// <summary>One model's batching settings; unset ones take the defaults.</summary>
public sealed class BatchingOverrides
{
    public int? MaxBatchSize { get; set; }
    public int? MaxQueueDelayMicroseconds { get; set; }
    public List<int>? PreferredBatchSizes { get; set; }
    public int? Workers { get; set; }
}
