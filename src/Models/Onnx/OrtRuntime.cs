using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

/// <summary>
/// ONNX Runtime for this process: the native library, its API table and one OrtEnv (log level
/// warning, log id "keypointservice"). Create one with <see cref="Load(string?)"/> and share it; it is
/// thread-safe. Sessions keep the environment alive, so disposing the runtime while sessions are in use
/// is safe: the OrtEnv is released after the last session.
/// </summary>
public sealed class OrtRuntime : IDisposable
{
    private const int LoggingLevelWarning = 2; // ORT_LOGGING_LEVEL_WARNING
    private const string LogId = "keypointservice";

    private readonly OrtEnvHandle _env;

    private OrtRuntime(OrtNativeApi api, OrtEnvHandle env, string libraryPath, string version, IReadOnlyList<string> providers)
    {
        Api = api;
        _env = env;
        LibraryPath = libraryPath;
        Version = version;
        AvailableProviders = providers;
    }

    /// <summary>Absolute path of the loaded libonnxruntime.</summary>
    public string LibraryPath { get; }

    /// <summary>ONNX Runtime's version string, e.g. "1.30.0".</summary>
    public string Version { get; }

    /// <summary>
    /// Providers compiled into the library (GetAvailableProviders), e.g. CPUExecutionProvider. A listed
    /// provider may still be unusable: the CPU package lists CUDAExecutionProvider without its libraries.
    /// </summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    internal OrtNativeApi Api { get; }

    /// <summary>
    /// Loads ONNX Runtime from <paramref name="libraryPath"/> (configuration OnnxRuntime:LibraryPath) if
    /// given, else from $KPS_ONNXRUNTIME_LIBRARY, else from the set-up cache
    /// (see <see cref="OrtLibraryLocator"/>). Throws <see cref="OrtLibraryException"/> when that library is
    /// missing, cannot be loaded, is not ONNX Runtime or is older than 1.30.
    /// </summary>
    public static OrtRuntime Load(string? libraryPath = null) => Load(libraryPath, Environment.GetEnvironmentVariable);

    internal static unsafe OrtRuntime Load(string? libraryPath, Func<string, string?> environment)
    {
        var candidate = OrtLibraryLocator.Resolve(libraryPath, environment);
        var (api, version) = OrtNativeLibrary.Open(candidate, environment);

        IntPtr env;
        var logId = Utf8.Terminated(LogId);
        fixed (byte* p = logId) api.Check(api.CreateEnv(LoggingLevelWarning, p, &env), "Creating the ONNX Runtime environment failed");
        var envHandle = new OrtEnvHandle(api, env);
        try
        {
            return new OrtRuntime(api, envHandle, candidate.Path, version, ReadAvailableProviders(api));
        }
        catch
        {
            envHandle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a session for the model file at <paramref name="modelPath"/>. Throws <see cref="OrtException"/>
    /// when ORT rejects the model or, with <see cref="OrtSessionSettings.ProviderRequired"/>, when the
    /// requested provider is unavailable.
    /// </summary>
    public OrtSession CreateSession(string modelPath, OrtSessionSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var added = false;
        try
        {
            _env.DangerousAddRef(ref added); // throws ObjectDisposedException once disposed
            return OrtSessionFactory.Create(Api, _env, Path.GetFullPath(modelPath), settings);
        }
        finally
        {
            if (added) _env.DangerousRelease();
        }
    }

    /// <summary>
    /// Asks ORT to add <paramref name="provider"/> to fresh session options, without a model: returns null
    /// when it can (always for CPU), else ORT's reason. Use it for a start-up check: unlike
    /// <see cref="AvailableProviders"/> it catches a provider whose libraries are missing (the CPU package
    /// lists CUDAExecutionProvider but cannot load it). A missing or busy GPU only shows when a session is created.
    /// </summary>
    public string? ProbeProvider(OrtExecutionProvider provider, int cudaDeviceId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cudaDeviceId);
        if (!Enum.IsDefined(provider)) throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown execution provider.");
        var added = false;
        try
        {
            _env.DangerousAddRef(ref added); // ObjectDisposedException once disposed
            return OrtSessionFactory.ProbeProvider(Api, provider, cudaDeviceId);
        }
        finally
        {
            if (added) _env.DangerousRelease();
        }
    }

    /// <summary>Releases this runtime's hold on the OrtEnv; sessions still open keep it until they are disposed.</summary>
    public void Dispose() => _env.Dispose();

    private static unsafe IReadOnlyList<string> ReadAvailableProviders(OrtNativeApi api)
    {
        byte** names;
        int count;
        api.Check(api.GetAvailableProviders(&names, &count));
        try
        {
            var providers = new string[count];
            for (var i = 0; i < count; i++) providers[i] = Marshal.PtrToStringUTF8((IntPtr)names[i]) ?? "";
            return providers;
        }
        finally
        {
            api.Check(api.ReleaseAvailableProviders(names, count));
        }
    }
}
