using System.Runtime.InteropServices;
using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

[Collection(OrtCollection.Name)]
public class OrtRuntimeTests(OrtTestEnvironment env)
{
    private static readonly OrtSessionSettings Cpu = new() { IntraOpThreads = 1 };

    [Fact]
    public void Reports_version_path_and_providers()
    {
        Assert.Equal(OrtLibraryLocator.OrtVersion, env.Runtime.Version);
        Assert.True(Path.IsPathFullyQualified(env.Runtime.LibraryPath));
        Assert.True(File.Exists(env.Runtime.LibraryPath));
        Assert.Contains("CPUExecutionProvider", env.Runtime.AvailableProviders);
    }

    [Fact]
    public void Loads_from_an_explicit_path()
    {
        using var runtime = OrtRuntime.Load(env.Runtime.LibraryPath);
        Assert.Equal(env.Runtime.LibraryPath, runtime.LibraryPath);
        Assert.Equal(env.Runtime.Version, runtime.Version);
        using var session = runtime.CreateSession(env.AffineRelu, Cpu);
        Assert.Equal("input", session.Inputs[0].Name);
    }

    [Fact]
    public void Loads_from_the_setup_cache()
    {
        // A cache laid out as setup.sh does, with a link to the library under test (same file, so no second copy).
        var cacheDir = env.NewPath("cache");
        var cached = Path.Combine(cacheDir, "onnxruntime", "1.30.0", "libonnxruntime.so.1");
        Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
        File.CreateSymbolicLink(cached, env.Runtime.LibraryPath);
        using var runtime = OrtRuntime.Load(null, name => name == "KPS_CACHE_DIR" ? cacheDir : null);
        Assert.Equal(cached, runtime.LibraryPath);
    }

    [Fact]
    public void Missing_explicit_library_gives_one_clear_error()
    {
        var path = Path.Combine(env.NewPath("missing"), "libonnxruntime.so.1");
        var e = Assert.Throws<OrtLibraryException>(() => OrtRuntime.Load(path));
        Assert.Equal(path, e.LibraryPath);
        Assert.Contains($"not found at {path}", e.Message);
        Assert.Contains("OnnxRuntime:LibraryPath", e.Message);
        Assert.Contains("./scripts/setup.sh", e.Message);
        Assert.Contains("KPS_ONNXRUNTIME_LIBRARY", e.Message);
    }

    [Fact]
    public void Missing_library_from_the_environment_variable_says_so()
    {
        var path = Path.Combine(env.NewPath("missing"), "libonnxruntime.so.1");
        var e = Assert.Throws<OrtLibraryException>(() => OrtRuntime.Load(null, name => name == "KPS_ONNXRUNTIME_LIBRARY" ? path : null));
        Assert.Contains(path, e.Message);
        Assert.Contains("environment variable KPS_ONNXRUNTIME_LIBRARY", e.Message);
        Assert.Contains("unset", e.Message);
    }

    [Fact]
    public void Missing_cache_says_to_run_setup()
    {
        var cacheDir = env.NewPath("empty-cache");
        var e = Assert.Throws<OrtLibraryException>(() => OrtRuntime.Load(null, name => name == "KPS_CACHE_DIR" ? cacheDir : null));
        Assert.Contains(Path.Combine(cacheDir, "onnxruntime", "1.30.0", "libonnxruntime.so.1"), e.Message);
        Assert.Contains("Run ./scripts/setup.sh", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_library_cannot_be_loaded()
    {
        var path = env.NewPath("libonnxruntime.so.1");
        File.WriteAllText(path, "this is not an ELF shared object\n");
        var e = Assert.Throws<OrtLibraryException>(() => OrtRuntime.Load(path));
        Assert.Contains($"{path} (from OnnxRuntime:LibraryPath) could not be loaded: {path}: ", e.Message); // dlerror's text
        Assert.DoesNotContain("\n", e.Message);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void A_library_that_is_not_onnx_runtime_is_rejected()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test uses a Linux shared library of the .NET runtime");
        var path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");
        var e = Assert.Throws<OrtLibraryException>(() => OrtRuntime.Load(path));
        Assert.Contains("is not an ONNX Runtime library: it does not export OrtGetApiBase", e.Message);
    }

    [Fact]
    public void A_library_without_the_requested_api_version_is_rejected()
    {
        // GetApi returns null for a version newer than the library: ask 1.30 for version 31.
        var candidate = new OrtLibraryCandidate(env.Runtime.LibraryPath, OrtLibrarySource.EnvironmentVariable);
        var e = Assert.Throws<OrtLibraryException>(() => OrtNativeLibrary.Open(candidate, Environment.GetEnvironmentVariable, OrtNativeApi.ApiVersion + 1));
        Assert.Contains($"ONNX Runtime {env.Runtime.Version} at {env.Runtime.LibraryPath} (from environment variable KPS_ONNXRUNTIME_LIBRARY) does not provide C API version 31; ONNX Runtime 1.31 or newer is required.", e.Message);
        Assert.Contains("KPS_ONNXRUNTIME_LIBRARY", e.Message);
    }

    [Fact]
    public void Dispose_is_idempotent_and_blocks_new_sessions()
    {
        var runtime = OrtRuntime.Load();
        runtime.Dispose();
        runtime.Dispose();
        Assert.Throws<ObjectDisposedException>(() => runtime.CreateSession(env.AffineRelu, Cpu));
    }

    [Fact]
    public void Sessions_outlive_a_disposed_runtime()
    {
        var runtime = OrtRuntime.Load();
        using var session = runtime.CreateSession(env.AffineRelu, Cpu);
        runtime.Dispose();
        var result = session.Run([new OrtTensor("input", [1, 1, 4, 4], new float[16])], ["output"]);
        Assert.All(result[0].Data, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Api_table_status_round_trip_matches_the_header_order()
    {
        // CreateStatus [0], GetErrorCode [1], GetErrorMessage [2], ReleaseStatus [93] through the one status check.
        var api = env.Runtime.Api;
        var e = Assert.Throws<OrtException>(() => CreateAndCheck(api, OrtErrorCode.NotImplemented, "probe ünïcode"));
        Assert.Equal(OrtErrorCode.NotImplemented, e.Code);
        Assert.Equal("probe ünïcode", e.OrtMessage);
        Assert.Equal("context: probe ünïcode", Assert.Throws<OrtException>(() => CreateAndCheck(api, OrtErrorCode.Fail, "probe ünïcode", "context")).Message);
    }

    private static unsafe void CreateAndCheck(OrtNativeApi api, OrtErrorCode code, string message, string? context = null)
    {
        fixed (byte* p = Utf8.Terminated(message)) api.Check(api.CreateStatus(code, p), context);
    }
}
