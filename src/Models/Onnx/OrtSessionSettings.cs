namespace KeypointService.Models.Onnx;

/// <summary>The execution provider a session asks for.</summary>
public enum OrtExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>Graph optimisation level (enum GraphOptimizationLevel in onnxruntime_c_api.h).</summary>
public enum OrtGraphOptimization
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>How a session is created. Session options are built fresh from these for every session.</summary>
public sealed record OrtSessionSettings
{
    /// <summary>Threads within one operator; 0 = ORT default (one per physical core), 1 = the calling thread only.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across operators (parallel execution mode only); 0 = ORT default.</summary>
    public int InterOpThreads { get; init; }

    public OrtGraphOptimization Optimization { get; init; } = OrtGraphOptimization.All;

    public OrtExecutionProvider Provider { get; init; } = OrtExecutionProvider.Cpu;

    /// <summary>CUDA device for <see cref="OrtExecutionProvider.Cuda"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>When CUDA is asked for but unavailable: true throws <see cref="OrtException"/>, false falls back to CPU and records why.</summary>
    public bool ProviderRequired { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for values ONNX Runtime would reject or misread.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId);
        if (!Enum.IsDefined(Optimization))
            throw new ArgumentOutOfRangeException(nameof(Optimization), Optimization, "Unknown graph optimisation level.");
        if (!Enum.IsDefined(Provider))
            throw new ArgumentOutOfRangeException(nameof(Provider), Provider, "Unknown execution provider.");
    }
}
