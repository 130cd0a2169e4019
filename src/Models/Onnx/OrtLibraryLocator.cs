namespace KeypointService.Models.Onnx;

/// <summary>Where a library path came from, in resolution order.</summary>
public enum OrtLibrarySource
{
    /// <summary>An explicit path: the argument of <see cref="OrtRuntime.Load(string?)"/>, i.e. configuration OnnxRuntime:LibraryPath.</summary>
    Explicit,
    /// <summary>The environment variable KPS_ONNXRUNTIME_LIBRARY.</summary>
    EnvironmentVariable,
    /// <summary>The set-up script's cache: $KPS_CACHE_DIR (default ~/.cache/keypointservice)/onnxruntime/1.30.0/libonnxruntime.so.1.</summary>
    SetupCache,
}

/// <summary>A resolved library path and where it came from.</summary>
public sealed record OrtLibraryCandidate(string Path, OrtLibrarySource Source)
{
    /// <summary>How the source reads in messages.</summary>
    public string SourceDescription => Source switch
    {
        OrtLibrarySource.Explicit => "OnnxRuntime:LibraryPath",
        OrtLibrarySource.EnvironmentVariable => $"environment variable {OrtLibraryLocator.LibraryEnvironmentVariable}",
        _ => "the set-up cache",
    };
}

/// <summary>
/// Finds the ONNX Runtime native library. The first source that is set decides, and only that path is
/// tried: an explicit path (configuration OnnxRuntime:LibraryPath), else $KPS_ONNXRUNTIME_LIBRARY,
/// else the set-up script's cache. A wrong explicit setting is reported, never silently replaced.
/// </summary>
public static class OrtLibraryLocator
{
    /// <summary>The ONNX Runtime release the set-up script installs.</summary>
    public const string OrtVersion = "1.30.0";
    public const string LibraryFileName = "libonnxruntime.so.1";
    public const string LibraryEnvironmentVariable = "KPS_ONNXRUNTIME_LIBRARY";
    public const string CacheEnvironmentVariable = "KPS_CACHE_DIR";
    public const string SetupHint = "Run ./scripts/setup.sh to install ONNX Runtime " + OrtVersion + " into the cache, or set " + LibraryEnvironmentVariable + " to the path of " + LibraryFileName + ".";

    /// <summary>$KPS_CACHE_DIR (default ~/.cache/keypointservice)/onnxruntime/1.30.0/libonnxruntime.so.1.</summary>
    public static string CachePath => GetCachePath(Environment.GetEnvironmentVariable);

    /// <summary>The path to load and its source, from <paramref name="explicitPath"/> and the process environment.</summary>
    public static OrtLibraryCandidate Resolve(string? explicitPath) => Resolve(explicitPath, Environment.GetEnvironmentVariable);

    internal static OrtLibraryCandidate Resolve(string? explicitPath, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
            return new OrtLibraryCandidate(Path.GetFullPath(explicitPath.Trim()), OrtLibrarySource.Explicit);
        var fromEnvironment = environment(LibraryEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return new OrtLibraryCandidate(Path.GetFullPath(fromEnvironment.Trim()), OrtLibrarySource.EnvironmentVariable);
        return new OrtLibraryCandidate(GetCachePath(environment), OrtLibrarySource.SetupCache);
    }

    internal static string GetCachePath(Func<string, string?> environment)
    {
        var cacheDirectory = environment(CacheEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(cacheDirectory))
        {
            var home = environment("HOME");
            if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            cacheDirectory = Path.Combine(home, ".cache", "keypointservice");
        }
        return Path.GetFullPath(Path.Combine(cacheDirectory.Trim(), "onnxruntime", OrtVersion, LibraryFileName));
    }
}
