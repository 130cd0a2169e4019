using System.Runtime.InteropServices;

namespace KeypointService.Models.Onnx;

/// <summary>
/// Loads libonnxruntime through its one real entry point, OrtGetApiBase, and reads the OrtApi table.
/// Every failure becomes one <see cref="OrtLibraryException"/> that names the path and the fix. A library
/// that loaded successfully stays loaded for the life of the process: ORT keeps global state (thread
/// pools, the logging manager) that must not be unmapped under it.
/// </summary>
internal static unsafe class OrtNativeLibrary
{
    private const string EntryPoint = "OrtGetApiBase";

    [StructLayout(LayoutKind.Sequential)]
    private struct OrtApiBase
    {
        // const OrtApi* GetApi(uint32_t version)
        public delegate* unmanaged<uint, IntPtr> GetApi;
        // const char* GetVersionString(void)
        public delegate* unmanaged<byte*> GetVersionString;
    }

    /// <param name="candidate">The path to load.</param>
    /// <param name="environment">Environment lookup, for the cache path named in messages.</param>
    /// <param name="apiVersion">The C API version to ask for; only tests pass another than <see cref="OrtNativeApi.ApiVersion"/>.</param>
    public static (OrtNativeApi Api, string Version) Open(OrtLibraryCandidate candidate, Func<string, string?> environment, uint apiVersion = OrtNativeApi.ApiVersion)
    {
        var path = candidate.Path;
        if (!File.Exists(path))
            throw Failure(candidate, environment, $"ONNX Runtime native library not found at {path} (from {candidate.SourceDescription}).");

        IntPtr library;
        try
        {
            library = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw Failure(candidate, environment, $"ONNX Runtime native library at {path} (from {candidate.SourceDescription}) could not be loaded: {LoaderError(e)}.", e);
        }

        var keepLoaded = false;
        try
        {
            if (!NativeLibrary.TryGetExport(library, EntryPoint, out var getApiBase))
                throw Failure(candidate, environment, $"{path} (from {candidate.SourceDescription}) is not an ONNX Runtime library: it does not export {EntryPoint}.");
            var apiBase = ((delegate* unmanaged<OrtApiBase*>)getApiBase)();
            if (apiBase == null || apiBase->GetApi == null || apiBase->GetVersionString == null)
                throw Failure(candidate, environment, $"{path} (from {candidate.SourceDescription}) is not a usable ONNX Runtime library: {EntryPoint} returned no API.");
            var version = Marshal.PtrToStringUTF8((IntPtr)apiBase->GetVersionString()) ?? "unknown";
            var table = apiBase->GetApi(apiVersion);
            if (table == IntPtr.Zero)
                throw Failure(candidate, environment,
                    $"ONNX Runtime {version} at {path} (from {candidate.SourceDescription}) does not provide C API version {apiVersion}; ONNX Runtime 1.{apiVersion} or newer is required.");
            OrtNativeApi api;
            try
            {
                api = new OrtNativeApi(table);
            }
            catch (Exception e) when (e is InvalidDataException or OrtException)
            {
                throw Failure(candidate, environment, $"ONNX Runtime {version} at {path} (from {candidate.SourceDescription}) failed the API self-check: {e.Message}", e);
            }
            keepLoaded = true;
            return (api, version);
        }
        finally
        {
            if (!keepLoaded) NativeLibrary.Free(library);
        }
    }

    /// <summary>The dynamic loader's own error: the last line of .NET's load failure message (the whole message stays in the inner exception).</summary>
    private static string LoaderError(Exception e) =>
        e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()?.TrimEnd('.') ?? e.GetType().Name;

    private static OrtLibraryException Failure(OrtLibraryCandidate candidate, Func<string, string?> environment, string problem, Exception? inner = null)
    {
        var fix = candidate.Source switch
        {
            OrtLibrarySource.Explicit => $"Fix or remove OnnxRuntime:LibraryPath. {OrtLibraryLocator.SetupHint}",
            OrtLibrarySource.EnvironmentVariable => $"Fix or unset {OrtLibraryLocator.LibraryEnvironmentVariable}, or run ./scripts/setup.sh and unset it to use the set-up cache.",
            _ => OrtLibraryLocator.SetupHint,
        };
        var cachePath = OrtLibraryLocator.GetCachePath(environment);
        var cacheNote = candidate.Source != OrtLibrarySource.SetupCache && File.Exists(cachePath)
            ? $" The set-up cache does have a library at {cachePath}."
            : "";
        var message = $"{problem} {fix} (Resolution order: OnnxRuntime:LibraryPath, then ${OrtLibraryLocator.LibraryEnvironmentVariable}, then {cachePath}; only the first one set is tried.){cacheNote}";
        return new OrtLibraryException(message, inner) { LibraryPath = candidate.Path };
    }
}
