using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests.Faults;

/// <summary>
/// Faults in the model store while the service serves under load (docs/reliability.md): a corrupt model or a
/// manifest whose hash does not match is published, a version directory is deleted. No request may fail, the
/// last good version keeps serving, and readiness and the model endpoint say why a version is not served.
/// </summary>
public sealed class ModelStoreFaultTests
{
    /// <summary>An ONNX file that is garbage, with a manifest whose sha256 matches it: only ONNX Runtime can tell.</summary>
    private static void CorruptOnnx(string dir)
    {
        var model = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(model, [0x08, 0x07, 0x12, 0x05, 0xde, 0xad, 0xbe, 0xef]);
        SetManifestHash(dir, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model))));
    }

    /// <summary>A valid model whose manifest names another sha256 (a truncated copy or a tampered file looks like this).</summary>
    private static void WrongHash(string dir) => SetManifestHash(dir, new string('0', 64));

    private static void SetManifestHash(string dir, string sha256)
    {
        var path = Path.Combine(dir, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["sha256"] = sha256;
        File.WriteAllText(path, manifest.ToJsonString());
    }

    [Theory]
    [InlineData("corrupt-onnx", "model.onnx")]
    [InlineData("hash-mismatch", "sha256")]
    public async Task A_bad_version_published_under_load_keeps_the_old_one_serving_and_readiness_says_why(string fault, string reason)
    {
        using var factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>());
        var client = factory.CreateClient();
        await using var load = Load.Start(client);
        await load.UntilServed("1");

        FixtureModels.Publish(factory.StoreRoot, "heatmap", "1", "2", fault == "corrupt-onnx" ? CorruptOnnx : WrongHash);
        var error = await Eventually(async () => (await Readiness(client, "heatmap"))["error"]?.GetValue<string>());
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.True(load.Served.Keys.SequenceEqual(["1"]), string.Join(", ", load.Served));
        Assert.StartsWith("version 2: ", error);
        Assert.Contains(reason, error);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // still serving: the pod stays in rotation
        var heatmap = await Readiness(client, "heatmap");
        Assert.Equal("loaded", heatmap["state"]!.GetValue<string>());
        Assert.Equal("1", heatmap["version"]!.GetValue<string>());
        var info = JsonNode.Parse(await client.GetStringAsync("/v1/models/heatmap"))!;
        Assert.Equal("1", info["version"]!.GetValue<string>());
        Assert.Equal(error, info["error"]!.GetValue<string>());
        Assert.Contains(factory.Logs.Messages(), m => m.Contains("version 2 failed to load") && m.Contains("still serving version 1"));

        // The next good publication replaces it and clears the error.
        factory.CopyFixture("heatmap", "3");
        await Eventually(async () => (await Readiness(client, "heatmap"))["version"]?.GetValue<string>() == "3" ? "" : null);
        Assert.Null((await Readiness(client, "heatmap"))["error"]);
    }

    [Fact]
    public async Task Deleting_the_served_version_directory_under_load_fails_no_request_and_falls_back_to_the_previous_version()
    {
        using var factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>());
        factory.CopyFixture("heatmap", "2");
        var client = factory.CreateClient();
        await using var load = Load.Start(client);
        await load.UntilServed("2");

        Directory.Delete(Path.Combine(factory.StoreRoot, "heatmap", "2"), recursive: true);
        await Eventually(async () => (await Readiness(client, "heatmap"))["version"]?.GetValue<string>() == "1" ? "" : null);
        await load.UntilServed("1");

        // The last version goes too: the sessions in memory keep serving, and the model says a restart would not find it.
        Directory.Delete(Path.Combine(factory.StoreRoot, "heatmap", "1"), recursive: true);
        var error = await Eventually(async () => (await Readiness(client, "heatmap"))["error"]?.GetValue<string>());
        var servedBefore = load.Served.GetValueOrDefault("1");
        await Eventually(() => Task.FromResult(load.Served.GetValueOrDefault("1") > servedBefore + 20 ? "" : null));
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.Contains("no versions", error);
        Assert.Contains("serving version 1 from memory", error);
        var info = JsonNode.Parse(await client.GetStringAsync("/v1/models/heatmap"))!;
        Assert.Equal("1", info["version"]!.GetValue<string>());
        Assert.Empty(info["available_versions"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        // Publishing again brings the store back in step.
        factory.CopyFixture("heatmap", "5");
        await Eventually(async () => (await Readiness(client, "heatmap"))["version"]?.GetValue<string>() == "5" ? "" : null);
        Assert.Null((await Readiness(client, "heatmap"))["error"]);
    }

    private static async Task<JsonNode> Readiness(HttpClient client, string model)
    {
        var report = JsonNode.Parse(await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync())!;
        return report["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == model)!;
    }

    /// <summary>Polls until <paramref name="probe"/> returns non-null; a guard of 20 s, not a timing assertion.</summary>
    private static async Task<string> Eventually(Func<Task<string?>> probe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the store did not reach the expected state within 20 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Six clients predicting with heatmap in a loop; every non-200 answer is a failure.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task[] _clients = [];
        public ConcurrentDictionary<string, int> Served { get; } = new();
        public ConcurrentQueue<string> Failures { get; } = new();

        public static Load Start(HttpClient client)
        {
            var load = new Load();
            var body = TestInputs.DataJson(128, 128);
            load._clients = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                while (!load._stop.IsCancellationRequested)
                {
                    var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(body));
                    var text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK) { load.Failures.Enqueue($"{(int)response.StatusCode}: {text}"); continue; }
                    load.Served.AddOrUpdate(JsonNode.Parse(text)!["version"]!.GetValue<string>(), 1, (_, n) => n + 1);
                }
            })).ToArray();
            return load;
        }

        public Task UntilServed(string version) =>
            Eventually(() => Task.FromResult(Served.ContainsKey(version) || !Failures.IsEmpty ? "" : null));

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_clients);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested) await StopAsync();
            _stop.Dispose();
        }
    }
}
