using System.Globalization;

namespace KeypointService.Models.Onnx;

/// <summary>
/// Builds session options from <see cref="OrtSessionSettings"/> (fresh for every session, released right
/// after), appends the CUDA provider when asked, and creates the session, falling back to CPU when CUDA
/// is unavailable unless the provider is required.
/// </summary>
internal static unsafe class OrtSessionFactory
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <param name="api">The API table.</param>
    /// <param name="env">The environment; the caller holds a reference on it during this call.</param>
    /// <param name="modelPath">Absolute model path.</param>
    /// <param name="settings">Validated settings.</param>
    public static OrtSession Create(OrtNativeApi api, OrtEnvHandle env, string modelPath, OrtSessionSettings settings)
    {
        string? fallbackReason = null;
        if (settings.Provider == OrtExecutionProvider.Cuda)
        {
            OrtException? failure;
            using (var options = CreateOptions(api, settings))
            {
                failure = TryAppendCuda(api, options, settings.CudaDeviceId);
                if (failure is null)
                {
                    try
                    {
                        return CreateSession(api, env, modelPath, options, CudaProvider, providerFallbackReason: null);
                    }
                    catch (OrtException e) when (!IsModelError(e.Code))
                    {
                        failure = e; // e.g. no CUDA device or driver: the provider loaded but cannot run
                    }
                }
            }
            if (settings.ProviderRequired)
                throw new OrtException(failure.Code, failure.OrtMessage,
                    $"The CUDA execution provider (device {settings.CudaDeviceId}) is required but unavailable in ONNX Runtime");
            fallbackReason = failure.OrtMessage.TrimEnd();
        }
        using var cpuOptions = CreateOptions(api, settings);
        return CreateSession(api, env, modelPath, cpuOptions, CpuProvider, fallbackReason);
    }

    /// <summary>Null when ORT accepts the provider on fresh session options, else ORT's reason.</summary>
    public static string? ProbeProvider(OrtNativeApi api, OrtExecutionProvider provider, int cudaDeviceId)
    {
        if (provider == OrtExecutionProvider.Cpu) return null;
        using var options = CreateOptions(api, new OrtSessionSettings());
        return TryAppendCuda(api, options, cudaDeviceId)?.OrtMessage.TrimEnd();
    }

    /// <summary>Errors that are the model's fault, which another provider would not fix.</summary>
    private static bool IsModelError(OrtErrorCode code) =>
        code is OrtErrorCode.NoSuchFile or OrtErrorCode.NoModel or OrtErrorCode.InvalidProtobuf or OrtErrorCode.InvalidGraph;

    private static OrtSessionOptionsHandle CreateOptions(OrtNativeApi api, OrtSessionSettings settings)
    {
        IntPtr raw;
        api.Check(api.CreateSessionOptions(&raw));
        var options = new OrtSessionOptionsHandle(api, raw);
        try
        {
            api.Check(api.SetSessionGraphOptimizationLevel(raw, (int)settings.Optimization));
            api.Check(api.SetIntraOpNumThreads(raw, settings.IntraOpThreads));
            api.Check(api.SetInterOpNumThreads(raw, settings.InterOpThreads));
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>Appends the CUDA provider (V2 options with device_id); returns ORT's failure instead of throwing it.</summary>
    private static OrtException? TryAppendCuda(OrtNativeApi api, OrtSessionOptionsHandle options, int deviceId)
    {
        try
        {
            IntPtr raw;
            api.Check(api.CreateCUDAProviderOptions(&raw));
            using var cudaOptions = new OrtCudaProviderOptionsHandle(api, raw);
            using var keys = new Utf8StringArray(["device_id"]);
            using var values = new Utf8StringArray([deviceId.ToString(CultureInfo.InvariantCulture)]);
            api.Check(api.UpdateCUDAProviderOptions(raw, keys.Pointer, values.Pointer, (nuint)keys.Count));
            api.Check(api.SessionOptionsAppendExecutionProvider_CUDA_V2(options.DangerousGetHandle(), raw));
            return null;
        }
        catch (OrtException e)
        {
            return e;
        }
    }

    private static OrtSession CreateSession(OrtNativeApi api, OrtEnvHandle env, string modelPath, OrtSessionOptionsHandle options,
        string provider, string? providerFallbackReason)
    {
        IntPtr raw;
        if (OperatingSystem.IsWindows())
        {
            // ORTCHAR_T is wchar_t on Windows.
            fixed (char* path = modelPath) // .NET strings are NUL-terminated
                api.Check(api.CreateSession(env.DangerousGetHandle(), path, options.DangerousGetHandle(), &raw));
        }
        else
        {
            fixed (byte* path = Utf8.Terminated(modelPath))
                api.Check(api.CreateSession(env.DangerousGetHandle(), path, options.DangerousGetHandle(), &raw));
        }
        var session = new OrtSessionHandle(api, raw, env);
        try
        {
            return new OrtSession(api, session, modelPath, provider, providerFallbackReason);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
