using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace KeypointService.Models.Onnx;

/// <summary>
/// The CUDA provider: appending it to session options, a start-up probe, and ORT's failure turned into
/// a short reason that names the missing library (ORT's message carries the loader's text, e.g.
/// "libcublasLt.so.13: cannot open shared object file").
/// </summary>
public static partial class OnnxProviders
{
    public const string CpuProvider = "CPUExecutionProvider";
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>
    /// Null when CUDA can be added to fresh session options with <paramref name="settings"/>' device and
    /// memory options (always null for CPU), else the reason. Use it at start-up: the CPU package and a GPU
    /// package without CUDA 13/cuDNN 9 both fail here. A missing or busy GPU only shows when a session is created.
    /// </summary>
    public static string? Probe(OnnxSessionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.Provider == OnnxExecutionProvider.Cpu) return null;
        OnnxRuntimeEnvironment.EnsureLoaded();
        using var options = settings.CreateCpuOptions();
        return TryAppendCuda(options, settings);
    }

    /// <summary>Appends CUDA to <paramref name="options"/>; returns null on success, else the reason (<see cref="Explain"/>).</summary>
    internal static string? TryAppendCuda(SessionOptions options, OnnxSessionSettings settings)
    {
        try
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(settings.CudaProviderOptions());
            options.AppendExecutionProvider_CUDA(cuda);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return Explain(e.Message);
        }
    }

    /// <summary>What a CPU-package build answers when CUDA is asked for.</summary>
    public const string CpuPackageReason =
        "this build uses ONNX Runtime's CPU package, which has no CUDA provider (build with -p:OnnxRuntimePackage=gpu, or KPS_ORT=gpu ./run.sh)";

    /// <summary>
    /// ORT's message shortened to what the operator needs: for a library that cannot be loaded, the loader's
    /// own text (it names the missing library); for the CPU package, how to build with the GPU one.
    /// </summary>
    public static string Explain(string ortMessage)
    {
        var message = ortMessage.Trim().TrimEnd('.');
        if (message.Contains("not enabled in this build", StringComparison.OrdinalIgnoreCase)) return CpuPackageReason;
        var loader = LoaderError().Match(message);
        if (!loader.Success) return message;
        var reason = loader.Groups["error"].Value.Trim();
        return reason.StartsWith("libonnxruntime_providers_cuda.so:", StringComparison.Ordinal) ? $"{reason}; {CpuPackageReason}" : reason;
    }

    /// <summary>What to do about <paramref name="reason"/>: install CUDA's libraries, or build with the GPU package.</summary>
    public static string Remedy(string reason) =>
        reason.Contains(CpuPackageReason, StringComparison.Ordinal)
            ? "Build with -p:OnnxRuntimePackage=gpu (KPS_ORT=gpu ./run.sh)"
            : "Install CUDA 13 and cuDNN 9 where the loader finds them (docs/deployment.md)";

    /// <summary>The library the loader could not find in <paramref name="reason"/>, e.g. "libcublasLt.so.13"; null when none is named.</summary>
    public static string? MissingLibrary(string reason)
    {
        var match = MissingLibraryPattern().Match(reason);
        return match.Success ? match.Groups["library"].Value : null;
    }

    [GeneratedRegex(@"Failed to load (?:shared )?library .*? with error: (?<error>.+)$", RegexOptions.Singleline)]
    private static partial Regex LoaderError();

    [GeneratedRegex(@"(?<library>[\w.+-]+\.so[\w.]*): cannot open shared object file")]
    private static partial Regex MissingLibraryPattern();
}

/// <summary>The requested execution provider is required (OnnxRuntime:ProviderRequired) but cannot be used.</summary>
public sealed class OnnxProviderUnavailableException(string message) : InvalidOperationException(message);
