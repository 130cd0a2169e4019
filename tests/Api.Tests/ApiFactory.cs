using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace KeypointService.Api.Tests;

/// <summary>The service in-process, over a temporary store filled with the trainer's fixture models.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public ApiFactory() : this(["heatmap", "regression"], new Dictionary<string, string?>()) { }

    internal ApiFactory(string[] models, IDictionary<string, string?> settings)
    {
        StoreRoot = Directory.CreateTempSubdirectory("kps-api-").FullName;
        foreach (var model in models) CopyFixture(model, "1");
        Settings = new Dictionary<string, string?>
        {
            ["ModelStore:Path"] = StoreRoot,
            ["ModelStore:Expected:0"] = "heatmap",
            ["ModelStore:Expected:1"] = "regression",
            ["ModelStore:Expected:2"] = "spmkd",
            ["ModelStore:Optional:0"] = "spmkd",
            ["ModelStore:PollSeconds"] = "0.2",
            ["Requests:MaxBodyBytes"] = (1024 * 1024).ToString(),
            ["Serilog:ConsoleFormat"] = "none",
        };
        foreach (var (key, value) in settings) Settings[key] = value;
    }

    public string StoreRoot { get; }
    private Dictionary<string, string?> Settings { get; }

    public static string FixtureModels =>
        Environment.GetEnvironmentVariable("KPS_FIXTURE_MODELS") is { Length: > 0 } path ? path : Path.Combine(RepositoryRoot, "artifacts", "fixture-models");

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "KeypointService.sln"))) return dir.FullName;
            throw new InvalidOperationException("KeypointService.sln not found");
        }
    }

    /// <summary>Publishes fixture {model}/1 into the store as {version}: temporary directory, then rename.</summary>
    public void CopyFixture(string model, string version)
    {
        var source = Path.Combine(FixtureModels, model, "1");
        if (!Directory.Exists(source)) throw new InvalidOperationException($"fixture model {source} is missing: run ./test.sh");
        var staging = Path.Combine(StoreRoot, model, $".tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        foreach (var file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        var manifest = Path.Combine(staging, "manifest.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        json["version"] = version;
        File.WriteAllText(manifest, json.ToJsonString());
        Directory.Move(staging, Path.Combine(StoreRoot, model, version));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(StoreRoot, recursive: true); } catch (IOException) { }
    }
}
