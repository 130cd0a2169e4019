using System.Net;
using System.Text.Json.Nodes;
using KeypointService.Api.Infrastructure;
using KeypointService.Models.Serving;
using Microsoft.Extensions.Options;

namespace KeypointService.Api.Tests;

public class HotReloadAndReadinessTests
{
    [Fact]
    public async Task Publishing_a_new_version_under_load_fails_no_request()
    {
        using var factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>());
        var client = factory.CreateClient();
        var body = TestInputs.DataJson(128, 128);
        var versions = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(body));
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK) { failures.Enqueue($"{(int)response.StatusCode}: {text}"); continue; }
                versions.AddOrUpdate(JsonNode.Parse(text)!["version"]!.GetValue<string>(), 1, (_, n) => n + 1);
            }
        })).ToArray();

        // Publish once version 1 has answered (a fixed delay let a slow first request see only version 2).
        var served = DateTime.UtcNow.AddSeconds(20);
        while (!versions.ContainsKey("1") && failures.IsEmpty && DateTime.UtcNow < served) await Task.Delay(20);
        factory.CopyFixture("heatmap", "2");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!versions.ContainsKey("2") && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.True(versions.GetValueOrDefault("1") > 0 && versions.GetValueOrDefault("2") > 0, string.Join(", ", versions));
        var info = JsonNode.Parse(await client.GetStringAsync("/v1/models/heatmap"))!;
        Assert.Equal("2", info["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Readiness_names_missing_models_and_the_service_stays_up()
    {
        using var factory = new ApiFactory(["heatmap"], new Dictionary<string, string?> { ["ModelStore:Optional:0"] = "nothing-optional" });
        var client = factory.CreateClient();
        var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var report = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("not_ready", report["status"]!.GetValue<string>());
        var states = report["models"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!["state"]!.GetValue<string>());
        Assert.Equal("loaded", states["heatmap"]);
        Assert.Equal("missing", states["regression"]);
        Assert.Equal("missing", states["spmkd"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(8, 8)))).StatusCode);
    }

    [Fact]
    public async Task The_gate_queues_then_refuses_with_retry_after()
    {
        var gate = new InferenceGate(Options.Create(new InferenceOptions { MaxConcurrency = 1, MaxQueueLength = 1, QueueTimeoutMs = 100 }));
        var held = await gate.EnterAsync(CancellationToken.None);
        var queued = gate.EnterAsync(CancellationToken.None);               // waits in the queue
        var refused = await Assert.ThrowsAsync<OverloadedException>(() => gate.EnterAsync(CancellationToken.None)); // queue full
        Assert.Contains("queue is full", refused.Message);
        Assert.True(refused.RetryAfterSeconds > 0);
        var timedOut = await Assert.ThrowsAsync<OverloadedException>(() => queued); // nobody released within 100 ms
        Assert.Contains("within 100 ms", timedOut.Message);
        held.Dispose();
        (await gate.EnterAsync(CancellationToken.None)).Dispose();
    }

    [Fact]
    public async Task Overload_becomes_503_with_retry_after()
    {
        using var factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>
        {
            ["Inference:MaxConcurrency"] = "1", ["Inference:MaxQueueLength"] = "0",
        });
        var client = factory.CreateClient();
        var gate = (InferenceGate)factory.Services.GetService(typeof(InferenceGate))!;
        using (await gate.EnterAsync(CancellationToken.None)) // occupy the only slot
        {
            var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(8, 8)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString());
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(8, 8)))).StatusCode);
    }
}
