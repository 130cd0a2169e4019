using System.Net;
using System.Security.Cryptography;
using System.Text;
using KeypointService.Api.Security;
using KeypointService.Api.Tests.Beds;

namespace KeypointService.Api.Tests.Security;

/// <summary>
/// The built service as a process in the Production profile (appsettings.Production.json, what the
/// container images run): it refuses to start without keys, and with a mounted keys file it serves.
/// </summary>
public sealed class ProductionProfileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kps-production-").FullName;
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(90));

    public void Dispose()
    {
        _guard.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private Dictionary<string, string> Settings()
    {
        var models = Path.Combine(_root, "models");
        FixtureModels.Publish(models, "regression", "1", "1");
        return new()
        {
            ["ModelStore:Path"] = models,
            ["ModelStore:Expected:0"] = "regression", ["ModelStore:Expected:1"] = "", ["ModelStore:Expected:2"] = "", ["ModelStore:Expected:3"] = "",
            ["ModelStore:Watch"] = "false",
            ["Beds:DataPath"] = Path.Combine(_root, "beds"),
            ["Grpc:Url"] = "",
        };
    }

    [Fact]
    public async Task Without_keys_it_refuses_to_start_in_one_line()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(Settings(), _guard.Token, "Production"));
        Assert.StartsWith("the service exited with 1:", e.Message);
        Assert.Contains("KeypointService cannot start: Security:Enabled is true but Security:ApiKeys is empty", e.Message);
    }

    [Fact]
    public async Task With_a_keys_file_it_serves_keyed_requests_and_open_probes()
    {
        var secret = ApiKeyCommand.NewKey();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        var keysFile = Path.Combine(_root, "api-keys.json");
        await File.WriteAllTextAsync(keysFile, $$$"""{"Security": {"ApiKeys": [{"Name": "mounted", "Sha256": "{{{hash}}}", "Scopes": ["predict"]}]}}""");
        var settings = Settings();
        settings["Security:KeysFile"] = keysFile;

        await using var service = await ServiceProcess.StartAsync(settings, _guard.Token, "Production"); // waits for an open /health/ready
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.GetAsync("/v1/models", _guard.Token)).StatusCode);
        var keyed = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        keyed.Headers.Add("X-API-Key", secret);
        Assert.Equal(HttpStatusCode.OK, (await service.Client.SendAsync(keyed, _guard.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/metrics", _guard.Token)).StatusCode);
        Assert.DoesNotContain(secret, service.Log);
    }
}
