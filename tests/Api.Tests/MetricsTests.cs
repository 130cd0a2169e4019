using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace KeypointService.Api.Tests;

/// <summary>
/// GET /metrics after a known set of /v1, /v2 and gRPC requests: every series of docs/metrics.md is there
/// with the expected labels and counts. The factory is this test's own, so no other test's requests count.
/// </summary>
public sealed class MetricsTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?>());

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Scrape_counts_requests_stages_batches_and_model_loads()
    {
        var client = _factory.CreateClient();
        var predict = TestInputs.Json(TestInputs.DataJson(32, 24));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", predict)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(32, 24)))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json("{\"data\": []}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/v1/models/made-up/predict", TestInputs.Json("{}"))).StatusCode);
        var batchOf3 = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "image", ["shape"] = new JsonArray(3, 4, 4), ["datatype"] = "FP32", ["data"] = OipTestClient.Numbers(new float[48]) }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "keypoints" }),
        };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v2/models/heatmap/infer", TestInputs.Json(batchOf3.ToJsonString()))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v2/models/heatmap/infer", TestInputs.Json("{\"inputs\": []}"))).StatusCode);

        using var channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "FP32", Shape = { 2, 2 } };
        await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "heatmap", Inputs = { input }, RawInputContents = { ByteString.CopyFrom(new byte[16]) } });
        await Assert.ThrowsAsync<RpcException>(async () => await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "heatmap", Inputs = { input } }));

        // A broken version of regression: its load fails and version 1 keeps being served.
        FixtureModels.Publish(_factory.StoreRoot, "regression", "1", "2", edit: dir => File.WriteAllText(Path.Combine(dir, "model.onnx"), "not a model"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (JsonNode.Parse(await client.GetStringAsync("/v1/models/regression"))!["error"] is null && DateTime.UtcNow < deadline) await Task.Delay(100);

        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var m = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(2, m.Value("kps_requests_total", ("protocol", "http"), ("model", "heatmap"), ("route", "/v1/models/{name}/predict"), ("status", "200")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "http"), ("model", "heatmap"), ("route", "/v1/models/{name}/predict"), ("status", "400")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "http"), ("model", ""), ("route", "/v1/models/{name}/predict"), ("status", "404")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "http"), ("model", "heatmap"), ("route", "/v2/models/{name}/infer"), ("status", "200")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "http"), ("model", "heatmap"), ("route", "/v2/models/{name}/infer"), ("status", "400")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "grpc"), ("model", "heatmap"), ("route", "/inference.GRPCInferenceService/ModelInfer"), ("status", "OK")));
        Assert.Equal(1, m.Value("kps_requests_total", ("protocol", "grpc"), ("model", "heatmap"), ("route", "/inference.GRPCInferenceService/ModelInfer"), ("status", "InvalidArgument")));
        Assert.Equal(2, m.Value("kps_request_duration_seconds_count", ("protocol", "http"), ("model", "heatmap"), ("route", "/v2/models/{name}/infer")));

        // Six inputs reached the predictor: two /v1 images, a /v2 tensor of 3, one gRPC image. The scheduler
        // queues the tensor's 3 items one by one, so they ran in one to three inference calls.
        var calls = m.Value("kps_batch_size_count", ("model", "heatmap"));
        Assert.InRange(calls, 4, 6);
        Assert.Equal(6, m.Value("kps_batch_size_sum", ("model", "heatmap")));
        foreach (var stage in new[] { "preprocess", "inference", "postprocess" })
            Assert.Equal(calls, m.Value($"kps_{stage}_duration_seconds_count", ("model", "heatmap")));
        Assert.Equal(6, m.Value("kps_queue_wait_seconds_count")); // one wait per queued input
        Assert.Equal(0, m.Value("kps_queue_depth"));

        Assert.Equal(1, m.Value("kps_model_loaded", ("model", "heatmap"), ("version", "1")));
        Assert.Equal(1, m.Value("kps_model_loaded", ("model", "regression"), ("version", "1")));
        Assert.Equal(1, m.Value("kps_model_loads_total", ("model", "regression"), ("outcome", "success")));
        Assert.Equal(1, m.Value("kps_model_loads_total", ("model", "regression"), ("outcome", "failure")));
        Assert.Equal(1, m.Value("kps_model_loads_total", ("model", "heatmap"), ("outcome", "success")));
        Assert.True(m.Value("kps_onnx_sessions_open") >= 2, "this host's two models hold a session each (the gauge counts the whole process)");
        Assert.True(m.Has("kps_gc_committed_bytes"));

        Assert.True(m.Value("process_working_set_bytes") > 0);
        Assert.True(m.Has("dotnet_collection_count_total"));
        Assert.True(m.Has("dotnet_total_memory_bytes"));
    }

    internal sealed record Scrape(List<(string Name, Dictionary<string, string> Labels, double Value)> Samples)
    {
        public bool Has(string name) => Samples.Any(s => s.Name == name);

        /// <summary>The sample's value, or 0 when the series has not been created yet (labelled series appear on first use).</summary>
        public double ValueOrZero(string name, params (string Key, string Value)[] labels) =>
            Samples.Any(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)) ? Value(name, labels) : 0;

        public double Value(string name, params (string Key, string Value)[] labels)
        {
            var matches = Samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();
            Assert.True(matches.Count == 1, $"{name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}: {matches.Count} samples; have: " +
                string.Join("; ", Samples.Where(s => s.Name == name).Select(s => string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")) + $" {s.Value}")));
            return matches[0].Value;
        }
    }

    /// <summary>The text exposition format: name{label="value",...} value; label values here hold no quotes or commas.</summary>
    internal static Scrape Parse(string text)
    {
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var brace = line.IndexOf('{');
            var space = line.LastIndexOf(' ');
            var name = brace >= 0 ? line[..brace] : line[..space];
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
                foreach (var pair in line[(brace + 1)..line.LastIndexOf('}')].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 2)..^1];
                }
            samples.Add((name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)));
        }
        return new Scrape(samples);
    }
}
