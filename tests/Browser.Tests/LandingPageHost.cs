using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace KeypointService.Browser.Tests;

/// <summary>
/// The real API on a Kestrel socket at 127.0.0.1 (a free port chosen by the OS), serving the
/// repository's default models read-only: a browser needs a real HTTP port, which the in-memory
/// TestServer of the other API tests does not open.
/// </summary>
public sealed class LandingPageHost : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    /// <param name="settings">Extra configuration (e.g. <c>Beds:DataPath</c>), applied after the defaults.</param>
    public LandingPageHost(IReadOnlyDictionary<string, string?>? settings = null)
    {
        _settings = settings ?? new Dictionary<string, string?>();
        UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());
    }

    /// <summary>http://127.0.0.1:{port}</summary>
    public Uri BaseAddress { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ModelStore:Path", FixtureModels.DefaultModels);
        builder.UseSetting("ModelStore:Watch", "false"); // nothing publishes during the test
        builder.UseSetting("Serilog:ConsoleFormat", "none");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }
}
