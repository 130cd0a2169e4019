using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using KeypointService.Api.Security;

namespace KeypointService.Api.Tests.Security;

/// <summary>A service with access control on and a few freshly minted keys; the test computes each hash itself.</summary>
public sealed class SecureHost : IDisposable
{
    public const string Predictor = "predictor", Ward = "ward", Limited = "limited", Ops = "ops";

    public SecureHost(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Security:Enabled"] = "true" };
        // Limited: one token, refilled every 1000 s, so the second request is refused however slow the machine.
        AddKey(settings, 0, Predictor, ["predict"], hex: true);
        AddKey(settings, 1, Ward, ["beds"], hex: false);
        AddKey(settings, 2, Limited, ["predict"], hex: true, permitsPerSecond: "0.001", burst: "1");
        AddKey(settings, 3, Ops, ["admin"], hex: true);
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        Factory = new ApiFactory(["heatmap", "regression"], settings);
    }

    public ApiFactory Factory { get; }
    public Dictionary<string, string> Keys { get; } = [];

    public HttpClient Client(string? key = null, bool bearer = false)
    {
        var client = Factory.CreateClient();
        if (key is null) return client;
        if (bearer) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Keys[key]);
        else client.DefaultRequestHeaders.Add("X-API-Key", Keys[key]);
        return client;
    }

    private void AddKey(Dictionary<string, string?> settings, int index, string name, string[] scopes, bool hex, string? permitsPerSecond = null, string? burst = null)
    {
        var secret = ApiKeyCommand.NewKey();
        Keys[name] = secret;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        var prefix = $"Security:ApiKeys:{index}";
        settings[$"{prefix}:Name"] = name;
        settings[$"{prefix}:Sha256"] = hex ? Convert.ToHexString(hash) : Convert.ToBase64String(hash); // both forms are accepted
        for (var i = 0; i < scopes.Length; i++) settings[$"{prefix}:Scopes:{i}"] = scopes[i];
        if (permitsPerSecond is not null) settings[$"{prefix}:PermitsPerSecond"] = permitsPerSecond;
        if (burst is not null) settings[$"{prefix}:Burst"] = burst;
    }

    public void Dispose() => Factory.Dispose();
}
