using System.Net;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>A multi-figure model is served like the others and answers with instances.</summary>
public sealed class MultiFigureTests : IDisposable
{
    private readonly ApiFactory _factory = new(["multi"], new Dictionary<string, string?> { ["ModelStore:Optional:1"] = "heatmap", ["ModelStore:Optional:2"] = "regression" });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Instances_come_back_in_caller_pixels()
    {
        var client = _factory.CreateClient();
        var info = JsonNode.Parse(await client.GetStringAsync("/v1/models/multi"))!;
        Assert.Equal("multi", info["task"]!.GetValue<string>());

        var response = await client.PostAsync("/v1/models/multi/predict?include=heatmaps", TestInputs.Content(TestInputs.Png(200, 160), "image/png"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var result = JsonNode.Parse(body)!;
        Assert.Equal("multi", result["task"]!.GetValue<string>());
        Assert.Empty(result["keypoints"]!.AsArray());
        var instances = result["instances"]!.AsArray();
        foreach (var instance in instances)
            foreach (var k in instance!["keypoints"]!.AsArray())
                Assert.Equal(k!["x_norm"]!.GetValue<double>() * 200, k["x"]!.GetValue<double>(), 9);
        Assert.Single(result["heatmaps"]!.AsArray());

        var batch = await client.PostAsync("/v1/models/multi/predict-batch", TestInputs.Json(
            $"{{\"items\": [{{\"image\": \"{Convert.ToBase64String(TestInputs.Png(128, 128, 3))}\"}}, {{\"image\": \"{Convert.ToBase64String(TestInputs.Png(64, 64, 4))}\"}}]}}"));
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var items = JsonNode.Parse(await batch.Content.ReadAsStringAsync())!["items"]!.AsArray();
        Assert.All(items, item => Assert.NotNull(item!["result"]!["instances"]));
    }
}
