using KeypointService.Models.Diagnostics;
using KeypointService.Models.Manifests;
using KeypointService.Models.Onnx;

namespace KeypointService.Models.Serving;

/// <summary>
/// One loaded model version: its manifest and ONNX Runtime sessions. Reference-counted so that a
/// hot reload can swap in a new version while in-flight requests finish on this one; the sessions
/// are released when the store has retired it and the last lease is returned.
/// </summary>
public sealed class LoadedModel
{
    private int _references = 1; // the store's own reference, dropped by Retire()
    private readonly Action? _released; // called once, after the sessions are released (the store's native-heap trim)

    internal LoadedModel(ModelManifest manifest, string directory, OnnxSession session, OnnxSession? reconstruction, ModelMetrics? metrics = null,
        Action? released = null)
    {
        _released = released;
        Metrics = metrics ?? ModelMetrics.Detached;
        Manifest = manifest;
        Directory = directory;
        Session = session;
        Reconstruction = reconstruction;
        LoadedAt = DateTimeOffset.UtcNow;
    }

    public ModelManifest Manifest { get; }
    public string Directory { get; }
    public OnnxSession Session { get; }
    public OnnxSession? Reconstruction { get; }
    public DateTimeOffset LoadedAt { get; }
    /// <summary>The owning store's instruments, where the predictor records its timings and batch sizes.</summary>
    public ModelMetrics Metrics { get; }
    public bool IsReleased => Volatile.Read(ref _references) == 0;

    internal bool TryAddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0) return false;
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return true;
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Session.Dispose();
        Reconstruction?.Dispose();
        _released?.Invoke();
    }

    internal void Retire() => Release();
}
