using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace KeypointService.Client.Tests;

/// <summary>The client's API key (X-API-Key) against the service with access control on.</summary>
public sealed class ApiKeyTests : IDisposable
{
    private const string Key = "kps_client-test-key-with-enough-entropy-for-a-test";
    private readonly ServiceFactory _service = new();
    private readonly WebApplicationFactory<Program> _secured;

    public ApiKeyTests()
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        _secured = _service.WithWebHostBuilder(b => b
            .UseSetting("Security:Enabled", "true")
            .UseSetting("Security:ApiKeys:0:Name", "client-tests")
            .UseSetting("Security:ApiKeys:0:Sha256", hash)
            .UseSetting("Security:ApiKeys:0:Scopes:0", "beds"));
    }

    public void Dispose()
    {
        _secured.Dispose();
        _service.Dispose();
    }

    [Fact]
    public async Task With_the_key_calls_pass_and_without_it_the_401_problem_is_thrown()
    {
        var keyed = new KeypointServiceClient(_secured.CreateClient()) { ApiKey = Key };
        Assert.Empty(await keyed.ListBedsAsync());

        var anonymous = new KeypointServiceClient(_secured.CreateClient());
        var e = await Assert.ThrowsAsync<KeypointServiceException>(() => anonymous.ListBedsAsync());
        Assert.Equal((HttpStatusCode.Unauthorized, "Unauthorized"), (e.StatusCode, e.Title));
        Assert.Contains("X-API-Key", e.Detail);

        var wrongScope = await Assert.ThrowsAsync<KeypointServiceException>(() => keyed.PredictPressureMapAsync("spmkd", ServiceFactory.PressureMap()));
        Assert.Equal(HttpStatusCode.Forbidden, wrongScope.StatusCode);
    }

    [Fact]
    public async Task The_registration_sends_the_key_on_every_request()
    {
        var services = new ServiceCollection();
        services.AddKeypointServiceClient(new Uri("http://localhost/"), Key)
            .ConfigurePrimaryHttpMessageHandler(() => _secured.Server.CreateHandler());
        await using var provider = services.BuildServiceProvider();
        Assert.Empty(await provider.GetRequiredService<KeypointServiceClient>().ListBedsAsync());
    }
}
