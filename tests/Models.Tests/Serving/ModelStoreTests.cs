using KeypointService.Models.Inference;
using KeypointService.Models.Inputs;
using KeypointService.Models.Serving;

namespace KeypointService.Models.Tests.Serving;

public class ModelStoreTests
{
    private static InputMap RandomImage(int seed, int size = 128)
    {
        var random = new Random(seed);
        return new InputMap(size, size, Enumerable.Range(0, size * size).Select(_ => (float)random.Next(256)).ToArray());
    }

    [Fact]
    public void Loads_the_newest_version_of_each_model()
    {
        using var temp = new TempStore("heatmap", "regression");
        temp.CopyVersion("heatmap", "1", "2");
        temp.CopyVersion("heatmap", "1", "10");
        using var store = temp.Open();
        store.Start();
        Assert.Equal("10", store.GetStatus("heatmap")!.ServingVersion);
        Assert.Equal(["1", "2", "10"], store.GetStatus("heatmap")!.AvailableVersions);
        Assert.Equal(ModelLoadState.Loaded, store.GetStatus("regression")!.State);
        Assert.Equal("CPUExecutionProvider", store.GetStatus("regression")!.ExecutionProvider);
        Assert.True(store.IsReady);
    }

    [Fact]
    public void A_pinned_version_is_served_instead_of_the_newest_and_a_missing_pin_keeps_serving()
    {
        using var temp = new TempStore("heatmap");
        temp.CopyVersion("heatmap", "1", "2");
        temp.CopyVersion("heatmap", "1", "3");
        var options = new ModelStoreOptions { Expected = [], Watch = false, Pinned = new() { ["heatmap"] = "2" } };
        using (var store = temp.Open(options))
        {
            store.Start();
            var status = store.GetStatus("heatmap")!;
            Assert.Equal(("2", "2", null), (status.ServingVersion, status.PinnedVersion, status.Error));
            store.Rescan(); // a rescan does not move it to the newest
            Assert.Equal("2", store.GetStatus("heatmap")!.ServingVersion);
        }
        options.Pinned["heatmap"] = "7";
        using (var store = temp.Open(options))
        {
            store.Start();
            var status = store.GetStatus("heatmap")!;
            Assert.Equal(ModelLoadState.Failed, status.State);
            Assert.Contains("pinned version 7", status.Error);
            Assert.Contains("available: 1, 2, 3", status.Error);
            Assert.False(store.IsReady);
        }
    }

    [Fact]
    public void Repinning_swaps_at_once_and_a_blank_pin_returns_to_the_newest()
    {
        using var temp = new TempStore("heatmap");
        temp.CopyVersion("heatmap", "1", "2");
        using var store = temp.Open(new ModelStoreOptions { Expected = [], Watch = false });
        store.Start();
        Assert.Equal("2", store.GetStatus("heatmap")!.ServingVersion);
        using (var lease = store.TryAcquire("heatmap", out _))
        {
            Assert.True(store.Repin(new Dictionary<string, string> { ["heatmap"] = "1" }));
            Assert.Equal(("1", "1"), (store.GetStatus("heatmap")!.ServingVersion, store.GetStatus("heatmap")!.PinnedVersion));
            Assert.Equal("2", lease!.Model.Manifest.Version); // a request in flight finishes on the version it took
        }
        Assert.False(store.Repin(new Dictionary<string, string> { ["heatmap"] = "1" })); // unchanged: no rescan
        Assert.True(store.Repin(new Dictionary<string, string> { ["heatmap"] = " " }));
        var status = store.GetStatus("heatmap")!;
        Assert.Equal(("2", null, null), (status.ServingVersion, status.PinnedVersion, status.Error));
    }

    [Fact]
    public void A_broken_model_is_reported_and_does_not_stop_the_others()
    {
        using var temp = new TempStore("regression");
        temp.CopyVersion("heatmap", "1", "1", dir => File.WriteAllBytes(Path.Combine(dir, "model.onnx"), [0x08, 0x01, 0xff]));
        using var store = temp.Open(new ModelStoreOptions { Expected = ["heatmap", "regression", "spmkd"], Watch = false });
        store.Start();
        var heatmap = store.GetStatus("heatmap")!;
        Assert.Equal(ModelLoadState.Failed, heatmap.State);
        Assert.Contains("sha256", heatmap.Error);
        Assert.Equal(ModelLoadState.Missing, store.GetStatus("spmkd")!.State);
        Assert.Equal(ModelLoadState.Loaded, store.GetStatus("regression")!.State);
        Assert.False(store.IsReady);
        Assert.Null(store.TryAcquire("heatmap", out var status));
        Assert.Equal(ModelLoadState.Failed, status!.State);
        Assert.Null(store.TryAcquire("nonexistent", out var unknown));
        Assert.Null(unknown);
    }

    [Fact]
    public void Corrupt_onnx_with_a_matching_hash_is_reported()
    {
        using var temp = new TempStore();
        temp.CopyVersion("heatmap", "1", "1", dir =>
        {
            var model = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(model, [0x08, 0x01, 0xff, 0x00]);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(model)));
            var manifest = Path.Combine(dir, "manifest.json");
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
            json["sha256"] = hash;
            File.WriteAllText(manifest, json.ToJsonString());
        });
        using var store = temp.Open(new ModelStoreOptions { Expected = ["heatmap"], Watch = false });
        store.Start();
        var status = store.GetStatus("heatmap")!;
        Assert.Equal(ModelLoadState.Failed, status.State);
        Assert.NotNull(status.Error);
    }

    [Fact]
    public void A_grouping_output_the_onnx_model_lacks_is_refused_at_load()
    {
        using var temp = new TempStore();
        temp.CopyVersion("multi", "1", "1", dir =>
        {
            var manifest = Path.Combine(dir, "manifest.json");
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
            json["grouping"]!["head_vote"]!["output"] = "head_votes";
            File.WriteAllText(manifest, json.ToJsonString());
        });
        using var store = temp.Open(new ModelStoreOptions { Expected = ["multi"], Watch = false });
        store.Start();
        var status = store.GetStatus("multi")!;
        Assert.Equal(ModelLoadState.Failed, status.State);
        Assert.Contains("the ONNX model has no output 'head_votes'", status.Error);
    }

    [Fact]
    public void A_failed_new_version_keeps_the_old_one_serving()
    {
        using var temp = new TempStore("heatmap");
        using var store = temp.Open();
        store.Start();
        temp.CopyVersion("heatmap", "1", "2", dir => File.WriteAllText(Path.Combine(dir, "manifest.json"), "{ broken"));
        store.Rescan();
        var status = store.GetStatus("heatmap")!;
        Assert.Equal("1", status.ServingVersion);
        Assert.Equal(ModelLoadState.Loaded, status.State);
        Assert.Contains("version 2", status.Error);
    }

    [Fact]
    public async Task Hot_reload_under_concurrent_load_fails_no_request_and_releases_the_old_version()
    {
        using var temp = new TempStore("heatmap");
        using var store = temp.Open(new ModelStoreOptions { Expected = ["heatmap"], Watch = true, PollSeconds = 0.2 });
        store.Start();
        LoadedModel? first;
        using (var lease = store.TryAcquire("heatmap", out _)!) first = lease.Model;

        var served = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(() =>
        {
            var input = RandomImage(w);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var lease = store.TryAcquire("heatmap", out var status) ?? throw new InvalidOperationException($"no model: {status?.State}");
                    var result = KeypointPredictor.Predict(lease.Model, [input], new PredictionOptions(IncludeHeatmaps: true));
                    Assert.Equal(5, result[0].Keypoints.Count);
                    served.AddOrUpdate(lease.Model.Manifest.Version, 1, (_, n) => n + 1);
                }
                catch (Exception e) { failures.Enqueue(e); }
            }
        })).ToArray();

        await Task.Delay(300);
        temp.CopyVersion("heatmap", "1", "2"); // publish: temp dir + rename; picked up by the watcher
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (store.GetStatus("heatmap")!.ServingVersion != "2" && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.Equal("2", store.GetStatus("heatmap")!.ServingVersion);
        Assert.True(served.GetValueOrDefault("1") > 0 && served.GetValueOrDefault("2") > 0, $"served: {string.Join(", ", served)}");
        Assert.True(first!.IsReleased, "the old version's sessions are released once its requests finish");
        Assert.True(first.Session.IsReleased, "and its native ONNX Runtime session with them");
    }

    [Fact]
    public void A_lease_keeps_a_retired_version_alive_until_disposed()
    {
        using var temp = new TempStore("heatmap");
        using var store = temp.Open();
        store.Start();
        var lease = store.TryAcquire("heatmap", out _)!;
        temp.CopyVersion("heatmap", "1", "2");
        store.Rescan();
        Assert.False(lease.Model.IsReleased);
        var result = KeypointPredictor.Predict(lease.Model, [RandomImage(1)], new PredictionOptions());
        Assert.Equal("1", lease.Model.Manifest.Version);
        Assert.Equal(5, result[0].Keypoints.Count);
        var old = lease.Model;
        lease.Dispose();
        Assert.True(old.IsReleased);
    }

    [Fact]
    public void A_retired_version_releases_its_native_sessions_when_its_last_lease_is_returned()
    {
        using var temp = new TempStore("heatmap");
        using var store = temp.Open();
        store.Start();
        var lease = store.TryAcquire("heatmap", out _)!;
        var old = lease.Model;
        temp.CopyVersion("heatmap", "1", "2");
        store.Rescan();
        Assert.Equal("2", store.GetStatus("heatmap")!.ServingVersion);
        Assert.False(old.Session.IsReleased, "a request still holds version 1");
        lease.Dispose();
        Assert.True(old.Session.IsReleased, "version 1's ONNX Runtime session is released once its last request is done");
        using var current = store.TryAcquire("heatmap", out _)!;
        Assert.False(current.Model.Session.IsReleased);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public void With_TrimNativeHeap_the_store_trims_once_a_retired_version_is_released(bool trim, int expected)
    {
        using var temp = new TempStore("heatmap");
        using var store = temp.Open(new ModelStoreOptions { Expected = [], Watch = false, TrimNativeHeap = trim });
        store.Start();
        var lease = store.TryAcquire("heatmap", out _)!;
        temp.CopyVersion("heatmap", "1", "2");
        store.Rescan();
        Assert.Equal(0, store.NativeHeapTrims); // version 1 is still in use: nothing was freed yet
        lease.Dispose();
        Assert.Equal(expected, store.NativeHeapTrims);
    }

    [Fact]
    public void The_default_options_trim_the_native_heap() => Assert.True(new ModelStoreOptions().TrimNativeHeap);

    [Fact]
    public void Malloc_trim_binds_on_glibc()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier.Contains("musl")) return;
        Assert.True(NativeHeap.Trim(), "glibc's malloc_trim could not be called");
    }

    [Fact]
    public void Hidden_publication_directories_are_ignored()
    {
        using var temp = new TempStore("heatmap");
        Directory.CreateDirectory(Path.Combine(temp.Root, "heatmap", ".tmp-5-abc"));
        using var store = temp.Open();
        store.Start();
        Assert.Equal(["1"], store.GetStatus("heatmap")!.AvailableVersions);
    }

    [Theory]
    [InlineData(new[] { "10", "9", "2", "10-rc1", "abc" }, new[] { "abc", "2", "9", "10", "10-rc1" })]
    public void Versions_sort_numerically(string[] input, string[] expected) =>
        Assert.Equal(expected, StoreVersions.Ordered(input));
}
