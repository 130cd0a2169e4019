using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Onnx;

/// <summary>The execution provider a session asks for.</summary>
public enum OnnxExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>
/// How sessions are created (configuration section OnnxRuntime). <see cref="OnnxSession.Create"/> builds
/// fresh <see cref="SessionOptions"/> from these for every session and disposes them once the session exists.
/// </summary>
public sealed record OnnxSessionSettings
{
    /// <summary>Threads within one operator; 0 = ORT default (one per physical core), 1 = the calling thread only.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across operators (parallel execution mode only); 0 = ORT default.</summary>
    public int InterOpThreads { get; init; }

    public GraphOptimizationLevel Optimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>ORT's CPU memory arena (SessionOptions.EnableCpuMemArena); true is ORT's default.</summary>
    public bool CpuMemArena { get; init; } = true;

    public OnnxExecutionProvider Provider { get; init; } = OnnxExecutionProvider.Cpu;

    /// <summary>CUDA device for <see cref="OnnxExecutionProvider.Cuda"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>When CUDA is asked for but unavailable: true throws <see cref="OnnxProviderUnavailableException"/>, false falls back to CPU and records why.</summary>
    public bool ProviderRequired { get; init; }

    /// <summary>CUDA gpu_mem_limit: the most bytes the provider's arena may hold; 0 = no limit (ORT's default).</summary>
    public long GpuMemLimitBytes { get; init; }

    /// <summary>CUDA arena_extend_strategy: "kNextPowerOfTwo" (ORT's default) or "kSameAsRequested" (grows only by what is asked: less memory, more allocations).</summary>
    public string ArenaExtendStrategy { get; init; } = "kNextPowerOfTwo";

    /// <summary>CUDA cudnn_conv_algo_search: "EXHAUSTIVE" (ORT's default; benchmarks per new input shape), "HEURISTIC" or "DEFAULT".</summary>
    public string CudnnConvAlgoSearch { get; init; } = "EXHAUSTIVE";

    private static readonly string[] ArenaStrategies = ["kNextPowerOfTwo", "kSameAsRequested"];
    private static readonly string[] ConvAlgoSearches = ["EXHAUSTIVE", "HEURISTIC", "DEFAULT"];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for values ONNX Runtime would reject or misread.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId);
        ArgumentOutOfRangeException.ThrowIfNegative(GpuMemLimitBytes);
        if (!Enum.IsDefined(Optimization))
            throw new ArgumentOutOfRangeException(nameof(Optimization), Optimization, "Unknown graph optimisation level.");
        if (!Enum.IsDefined(Provider))
            throw new ArgumentOutOfRangeException(nameof(Provider), Provider, "Unknown execution provider.");
        if (!ArenaStrategies.Contains(ArenaExtendStrategy))
            throw new ArgumentOutOfRangeException(nameof(ArenaExtendStrategy), ArenaExtendStrategy, $"Must be one of {string.Join(", ", ArenaStrategies)}.");
        if (!ConvAlgoSearches.Contains(CudnnConvAlgoSearch))
            throw new ArgumentOutOfRangeException(nameof(CudnnConvAlgoSearch), CudnnConvAlgoSearch, $"Must be one of {string.Join(", ", ConvAlgoSearches)}.");
    }

    /// <summary>New CPU session options (threads, optimisation level); the caller owns and disposes them.</summary>
    internal SessionOptions CreateCpuOptions()
    {
        var options = new SessionOptions();
        try
        {
            options.GraphOptimizationLevel = Optimization;
            options.IntraOpNumThreads = IntraOpThreads;
            options.InterOpNumThreads = InterOpThreads;
            options.EnableCpuMemArena = CpuMemArena;
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>The CUDA provider options ORT reads (names as in its CUDA provider documentation).</summary>
    internal Dictionary<string, string> CudaProviderOptions()
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = CudaDeviceId.ToString(CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = ArenaExtendStrategy,
            ["cudnn_conv_algo_search"] = CudnnConvAlgoSearch,
        };
        if (GpuMemLimitBytes > 0) options["gpu_mem_limit"] = GpuMemLimitBytes.ToString(CultureInfo.InvariantCulture);
        return options;
    }
}
