using System.Net;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>
/// Requests for one model that arrive together run as batches (seen in /metrics), each gets its own
/// answer, equal to the one it gets alone; a model without a dynamic batch dimension runs unbatched.
/// </summary>
public sealed class BatchingTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?>());

    public void Dispose() => _factory.Dispose();

    private async Task<MetricsTests.Scrape> Scrape(HttpClient client) =>
        MetricsTests.Parse(await client.GetStringAsync("/metrics"));

    [Fact]
    public async Task Concurrent_requests_form_batches_and_get_their_own_answers()
    {
        var client = _factory.CreateClient();
        var bodies = Enumerable.Range(0, 24).Select(i => TestInputs.DataJson(48, 48, seed: i)).ToArray();
        var alone = new List<string>();
        foreach (var body in bodies.Take(3))
            alone.Add(JsonNode.Parse(await (await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(body))).Content.ReadAsStringAsync())!["keypoints"]!.ToJsonString());
        var before = await Scrape(client);

        var together = await Task.WhenAll(bodies.Select(async body =>
        {
            var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Json(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["keypoints"]!;
        }));

        var after = await Scrape(client);
        var calls = after.Value("kps_batch_size_count", ("model", "heatmap")) - before.ValueOrZero("kps_batch_size_count", ("model", "heatmap"));
        var items = after.Value("kps_batch_size_sum", ("model", "heatmap")) - before.ValueOrZero("kps_batch_size_sum", ("model", "heatmap"));
        Assert.Equal(24, items);
        Assert.True(calls < 24, $"24 concurrent requests ran in {calls} inference calls: no batch formed");
        for (var i = 0; i < 3; i++) // batched answers equal the lone ones (to float tolerance)
            for (var k = 0; k < 5; k++)
                Assert.Equal(JsonNode.Parse(alone[i])![k]!["x"]!.GetValue<double>(), together[i][k]!["x"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task Predict_batch_items_go_through_the_same_scheduler()
    {
        var client = _factory.CreateClient();
        var before = await Scrape(client);
        var items = string.Join(",", Enumerable.Range(0, 8).Select(i => TestInputs.DataJson(32, 32, seed: i)));
        var response = await client.PostAsync("/v1/models/regression/predict-batch", TestInputs.Json($"{{\"items\": [{items}]}}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = await Scrape(client);
        Assert.Equal(8, after.Value("kps_queue_wait_seconds_count") - before.ValueOrZero("kps_queue_wait_seconds_count"));
        Assert.Equal(8, after.Value("kps_batch_size_sum", ("model", "regression")) - before.ValueOrZero("kps_batch_size_sum", ("model", "regression")));
    }
}
