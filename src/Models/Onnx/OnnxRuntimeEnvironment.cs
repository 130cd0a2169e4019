using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Onnx;

/// <summary>
/// ONNX Runtime's process-wide environment (OrtEnv), created on first use. Loading it is where a missing or
/// broken native library shows; <see cref="EnsureLoaded"/> turns that into one
/// <see cref="OnnxRuntimeUnavailableException"/> instead of the TypeInitializationException the managed
/// package throws, so start-up can print a single plain message.
/// </summary>
public static class OnnxRuntimeEnvironment
{
    private static readonly Lazy<string> LoadedVersion = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>ONNX Runtime's version string, e.g. "1.31.1"; loads the runtime.</summary>
    public static string Version => LoadedVersion.Value;

    /// <summary>Loads the native library and creates the environment once; throws <see cref="OnnxRuntimeUnavailableException"/> when it cannot.</summary>
    public static void EnsureLoaded() => _ = LoadedVersion.Value;

    private static string Load()
    {
        try
        {
            return OrtEnv.Instance().GetVersionString();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            var root = e;
            while (root.InnerException is not null) root = root.InnerException;
            throw new OnnxRuntimeUnavailableException(
                $"the ONNX Runtime native library (libonnxruntime.so) cannot be loaded: {LoaderLine(root.Message)}. " +
                "It comes with the Microsoft.ML.OnnxRuntime package and is copied beside the service by the build: rebuild (./scripts/setup.sh) " +
                "rather than copying the .dll files alone.", e);
        }
    }

    /// <summary>
    /// The line of the loader's message about libonnxruntime.so beside the service (.NET lists every path it
    /// tried, one per line), else its first line.
    /// </summary>
    private static string LoaderLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var beside = Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so:");
        return (lines.FirstOrDefault(l => l.StartsWith(beside, StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? "").TrimEnd('.');
    }
}
/// <summary>The ONNX Runtime native library is missing or cannot be loaded; the message says which and how to fix it.</summary>
public sealed class OnnxRuntimeUnavailableException(string message, Exception? innerException)
    : InvalidOperationException(message, innerException);
