using System.Text.Json.Nodes;

namespace KeypointService.Tests.Shared;

/// <summary>
/// The trainer's fixture models (exported at test time by test.sh into $KPS_FIXTURE_MODELS) and the
/// repository's default models, and a publisher that copies a fixture into a store the way the
/// trainer's `publish` does: a hidden temporary directory, then one rename. Linked into both test projects.
/// </summary>
internal static class FixtureModels
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Root =>
        Environment.GetEnvironmentVariable("KPS_FIXTURE_MODELS") is { Length: > 0 } path ? path : Path.Combine(RepositoryRoot, "artifacts", "fixture-models");

    public static string DefaultModels => Path.Combine(RepositoryRoot, "models");

    /// <summary>Copies fixture {model}/{fromVersion} into {storeRoot}/{model}/{toVersion}; <paramref name="edit"/> may alter the staged files.</summary>
    public static string Publish(string storeRoot, string model, string fromVersion, string toVersion, Action<string>? edit = null)
    {
        var source = Path.Combine(Root, model, fromVersion);
        if (!Directory.Exists(source))
            throw new InvalidOperationException($"fixture model {source} is missing: run ./test.sh, or `PYTHONPATH=src/Training /usr/bin/python3 -m keypoint_trainer fixtures --out {Root}`");
        var staging = Path.Combine(storeRoot, model, $".tmp-{toVersion}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        foreach (var file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        var manifestPath = Path.Combine(staging, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["version"] = toVersion;
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        edit?.Invoke(staging);
        var final = Path.Combine(storeRoot, model, toVersion);
        Directory.Move(staging, final);
        return final;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KeypointService.sln"))) return dir.FullName;
        throw new InvalidOperationException("KeypointService.sln not found above the test binaries");
    }
}
