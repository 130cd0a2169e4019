using KeypointService.Models.Onnx;

namespace KeypointService.Models.Tests.Onnx;

public class OrtLibraryLocatorTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Explicit_path_wins_over_the_environment_variable()
    {
        var candidate = OrtLibraryLocator.Resolve("/opt/ort/libonnxruntime.so.1", Env(("KPS_ONNXRUNTIME_LIBRARY", "/env/libonnxruntime.so.1")));
        Assert.Equal(new OrtLibraryCandidate("/opt/ort/libonnxruntime.so.1", OrtLibrarySource.Explicit), candidate);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Environment_variable_is_used_when_no_explicit_path_is_set(string? explicitPath)
    {
        var candidate = OrtLibraryLocator.Resolve(explicitPath, Env(("KPS_ONNXRUNTIME_LIBRARY", "/env/libonnxruntime.so.1"), ("KPS_CACHE_DIR", "/cache")));
        Assert.Equal(new OrtLibraryCandidate("/env/libonnxruntime.so.1", OrtLibrarySource.EnvironmentVariable), candidate);
    }

    [Fact]
    public void Cache_under_KPS_CACHE_DIR_is_the_last_resort()
    {
        var candidate = OrtLibraryLocator.Resolve(null, Env(("KPS_ONNXRUNTIME_LIBRARY", " "), ("KPS_CACHE_DIR", "/var/cache/kps")));
        Assert.Equal(new OrtLibraryCandidate("/var/cache/kps/onnxruntime/1.30.0/libonnxruntime.so.1", OrtLibrarySource.SetupCache), candidate);
    }

    [Fact]
    public void Cache_defaults_to_home_dot_cache()
    {
        var candidate = OrtLibraryLocator.Resolve(null, Env(("HOME", "/home/someone")));
        Assert.Equal("/home/someone/.cache/keypointservice/onnxruntime/1.30.0/libonnxruntime.so.1", candidate.Path);
        Assert.Equal(OrtLibrarySource.SetupCache, candidate.Source);
    }

    [Fact]
    public void Relative_paths_become_absolute()
    {
        var candidate = OrtLibraryLocator.Resolve("native/libonnxruntime.so.1", Env());
        Assert.Equal(Path.GetFullPath("native/libonnxruntime.so.1"), candidate.Path);
    }
}
