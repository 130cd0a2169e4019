using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace KeypointService.Api.Tests;

/// <summary>The service in-process, over a temporary store filled with the trainer's fixture models.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public ApiFactory() : this(["heatmap", "regression"], new Dictionary<string, string?>()) { }

    /// <param name="configFile">A JSON configuration file read last and reloaded when it changes, as appsettings.json is.</param>
    internal ApiFactory(string[] models, IDictionary<string, string?> settings, string? configFile = null)
    {
        ConfigFile = configFile;
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
            ["Beds:DataPath"] = Path.Combine(StoreRoot, ".beds"), // hidden: the model store ignores it
        };
        foreach (var (key, value) in settings) Settings[key] = value;
    }

    public string StoreRoot { get; }
    /// <summary>Every Serilog event this host writes (console output is off in tests).</summary>
    public LogCapture Logs { get; } = new();
    private Dictionary<string, string?> Settings { get; }
    private string? ConfigFile { get; }

    /// <summary>Publishes fixture {model}/1 into the store as {version}: temporary directory, then rename.</summary>
    public void CopyFixture(string model, string version) => FixtureModels.Publish(StoreRoot, model, "1", version);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        if (ConfigFile is { } file)
            builder.ConfigureAppConfiguration(c => c.AddJsonFile(file, optional: false, reloadOnChange: true));
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(StoreRoot, recursive: true); } catch (IOException) { }
    }
}
