using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeypointService.Api.Security;

namespace KeypointService.Api.Tests.Security;

/// <summary><c>keys new</c> and <c>keys hash</c>: the printed key matches the printed hash, and the snippet configures a working key.</summary>
public sealed class ApiKeyCommandTests
{
    private static (int Code, string Out, string Err) Run(string[] args, string? stdin = null)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = ApiKeyCommand.Run(args, stdout, stderr, new StringReader(stdin ?? ""));
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Sha256Hex(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [Fact]
    public async Task New_prints_the_key_once_and_a_snippet_that_holds_only_its_hash()
    {
        var (code, output, _) = Run(["new", "--name", "ward-3", "--scope", "beds", "--scope", "predict,beds", "--permits-per-second", "0.5", "--burst", "2"]);
        Assert.Equal(0, code);
        var secret = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(ApiKeyCommand.Prefix));
        Assert.Single(output.Split(secret)[1..]); // printed once
        Assert.True(secret.Length >= ApiKeyCommand.Prefix.Length + 43, secret); // 256 bits in base64url

        var json = output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)];
        var entry = JsonSerializer.Deserialize<ApiKeyOptions>(json)!;
        Assert.Equal(("ward-3", Sha256Hex(secret), 0.5, 2), (entry.Name, entry.Sha256, entry.PermitsPerSecond, entry.Burst));
        Assert.Equal(["beds", "predict"], entry.Scopes);
        Assert.Contains($"Security__ApiKeys__N__Sha256={Sha256Hex(secret)}", output);
        Assert.Contains("Security__ApiKeys__N__Scopes__1=predict", output);

        // The snippet, as configuration, lets the printed key in (and only with its scopes).
        var settings = new Dictionary<string, string?>
        {
            ["Security:Enabled"] = "true",
            ["Security:ApiKeys:0:Name"] = entry.Name,
            ["Security:ApiKeys:0:Sha256"] = entry.Sha256,
            ["Security:ApiKeys:0:Scopes:0"] = entry.Scopes[0],
            ["Security:ApiKeys:0:Scopes:1"] = entry.Scopes[1],
        };
        using var factory = new ApiFactory(["heatmap", "regression"], settings);
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/beds")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public void Two_keys_differ()
    {
        Assert.NotEqual(ApiKeyCommand.NewKey(), ApiKeyCommand.NewKey());
    }

    [Fact]
    public void Hash_reads_the_key_from_standard_input()
    {
        var (code, output, _) = Run(["hash"], "kps_example\n");
        Assert.Equal(0, code);
        Assert.Equal(Sha256Hex("kps_example"), output.Trim());
    }

    [Theory]
    [InlineData(new[] { "new", "--scope", "predict" }, "--name is required")]
    [InlineData(new[] { "new", "--name", "a" }, "--scope is required")]
    [InlineData(new[] { "new", "--name", "a", "--scope", "root" }, "unknown scope 'root'")]
    [InlineData(new[] { "new", "--name", "a", "--scope", "predict", "--burst", "-1" }, "--burst must be a number >= 0")]
    [InlineData(new[] { "new", "--name" }, "--name needs a value")]
    [InlineData(new[] { "rotate" }, "usage:")]
    public void Bad_arguments_exit_2_with_the_reason_and_usage(string[] args, string expected)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains(expected, error);
        Assert.Contains("usage:", error);
    }
}
