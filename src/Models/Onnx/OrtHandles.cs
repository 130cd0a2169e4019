using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

/// <summary>
/// An owned ORT object. ReleaseHandle calls the matching Release* exactly once, after the last
/// DangerousAddRef holder is done, so a Dispose racing a native call on another thread is safe.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(OrtNativeApi api, IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        Api = api;
        SetHandle(handle);
    }

    protected OrtNativeApi Api { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;
}

/// <summary>OrtEnv, released with ReleaseEnv.</summary>
internal sealed unsafe class OrtEnvHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}

/// <summary>OrtSessionOptions, released with ReleaseSessionOptions.</summary>
internal sealed unsafe class OrtSessionOptionsHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}

/// <summary>OrtCUDAProviderOptionsV2, released with ReleaseCUDAProviderOptions.</summary>
internal sealed unsafe class OrtCudaProviderOptionsHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseCUDAProviderOptions(handle);
        return true;
    }
}

/// <summary>OrtMemoryInfo, released with ReleaseMemoryInfo.</summary>
internal sealed unsafe class OrtMemoryInfoHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}

/// <summary>OrtTypeInfo, released with ReleaseTypeInfo.</summary>
internal sealed unsafe class OrtTypeInfoHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}

/// <summary>OrtTensorTypeAndShapeInfo, released with ReleaseTensorTypeAndShapeInfo.</summary>
internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

/// <summary>OrtModelMetadata, released with ReleaseModelMetadata.</summary>
internal sealed unsafe class OrtModelMetadataHandle(OrtNativeApi api, IntPtr pointer) : OrtHandle(api, pointer)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseModelMetadata(handle);
        return true;
    }
}

/// <summary>
/// OrtSession, released with ReleaseSession. Holds a reference on the OrtEnv it was created in, so the
/// environment outlives every session even when the runtime is disposed first.
/// </summary>
internal sealed unsafe class OrtSessionHandle : OrtHandle
{
    private readonly OrtEnvHandle? _env;

    /// <param name="api">The API table.</param>
    /// <param name="handle">The OrtSession*.</param>
    /// <param name="env">The environment; the caller must hold a reference on it during this call.</param>
    public OrtSessionHandle(OrtNativeApi api, IntPtr handle, OrtEnvHandle env)
        : base(api, handle)
    {
        var added = false;
        env.DangerousAddRef(ref added);
        _env = env;
    }

    protected override bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        _env?.DangerousRelease(); // null only if the constructor failed to take its reference
        return true;
    }
}

/// <summary>
/// OrtValue* results and inputs of one Run call, released with ReleaseValue on Dispose. Scoped to the call.
/// </summary>
internal sealed unsafe class OrtValueList : IDisposable
{
    private readonly OrtNativeApi _api;
    private IntPtr[]? _values;

    public OrtValueList(OrtNativeApi api, int count)
    {
        _api = api;
        _values = new IntPtr[count];
    }

    public IntPtr[] Values => _values ?? throw new ObjectDisposedException(nameof(OrtValueList));

    public void Dispose()
    {
        var values = Interlocked.Exchange(ref _values, null);
        if (values is null) return;
        foreach (var value in values)
            if (value != IntPtr.Zero) _api.ReleaseValue(value);
    }
}
