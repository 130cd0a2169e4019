namespace KeypointService.Models.Tests;

/// <summary>Where the tests find the ONNX Runtime and model stores.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Fixture models exported by the trainer for this test run (test.sh sets KPS_FIXTURE_MODELS).</summary>
    public static string FixtureModels =>
        Environment.GetEnvironmentVariable("KPS_FIXTURE_MODELS") is { Length: > 0 } path ? path : Path.Combine(RepositoryRoot, "artifacts", "fixture-models");

    public static string DefaultModels => Path.Combine(RepositoryRoot, "models");

    public static IEnumerable<string> StoreRoots() => new[] { FixtureModels, DefaultModels }.Where(Directory.Exists);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KeypointService.sln"))) return dir.FullName;
        throw new InvalidOperationException("KeypointService.sln not found above the test binaries");
    }
}
