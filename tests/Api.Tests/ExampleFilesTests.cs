using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace KeypointService.Api.Tests;

/// <summary>
/// The README's examples (files in examples/) against the committed default models: each gives an
/// answer a user can learn from — keypoints and joints inside the input, the figure's head found.
/// </summary>
public sealed class ExampleFilesTests(DefaultModelsFactory factory) : IClassFixture<DefaultModelsFactory>
{
    private static readonly string Examples = Path.Combine(FixtureModels.RepositoryRoot, "examples");
    private readonly DefaultModelsFactory _factory = factory;

    private async Task<JsonNode> Post(string url, string file, string mediaType)
    {
        var response = await _factory.CreateClient().PostAsync(url, TestInputs.Content(File.ReadAllBytes(Path.Combine(Examples, file)), mediaType));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{file}: {(int)response.StatusCode} {body}");
        var result = JsonNode.Parse(body)!;
        Assert.False(result.AsObject().ContainsKey("warnings"), $"{file}: {body}");
        return result;
    }

    /// <summary>Every point lies on the input, or within <paramref name="margin"/> (a share of its size) of its edges.</summary>
    private static void AssertInside(JsonArray points, int width, int height, double margin = 0)
    {
        foreach (var p in points)
        {
            Assert.InRange(p!["x"]!.GetValue<double>(), -margin * width, (1 + margin) * width);
            Assert.InRange(p["y"]!.GetValue<double>(), -margin * height, (1 + margin) * height);
        }
    }

    [Theory]
    [InlineData("pressure-map.csv", "text/csv", "")]
    [InlineData("pressure-map.npy", "application/x-npy", "")]
    [InlineData("pressure-map-84x192.f32", "application/octet-stream", "?width=84&height=192")]
    public async Task Pressure_examples_give_joints_on_the_mat(string file, string mediaType, string query)
    {
        var result = await Post("/v1/models/spmkd/predict" + query, file, mediaType);
        Assert.Equal((84, 192), (result["width"]!.GetValue<int>(), result["height"]!.GetValue<int>()));
        AssertInside(result["keypoints"]!.AsArray(), 84, 192);
        // The joints are a linear read-out of the keypoints and may fall past the mat's edge (a wrist is
        // typically 20-30 cm off, docs/results/spmkd.md), so they are checked for the mat's pixel frame, not clamped.
        AssertInside(result["joints"]!.AsArray(), 84, 192, margin: 0.25);
        // slp-test-0000 lies on the left side (the simulator's label); the default model's posture head says so.
        Assert.Equal("left_side", result["posture"]!["label"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("stick-figure.png", "image/png")]
    [InlineData("stick-figure.jpg", "image/jpeg")]
    public async Task Stick_figure_examples_find_the_figure(string file, string mediaType)
    {
        var result = await Post("/v1/models/heatmap/predict", file, mediaType);
        var keypoints = result["keypoints"]!.AsArray();
        AssertInside(keypoints, 128, 128);
        // The golden sample of this image (models/heatmap/*/golden.json, test-0001) puts the head at (38.1, 56.3).
        Assert.Equal(38.1, keypoints[0]!["x"]!.GetValue<double>(), 0.5);
        Assert.Equal(56.3, keypoints[0]!["y"]!.GetValue<double>(), 0.5);
        Assert.All(keypoints, k => Assert.InRange(k!["score"]!.GetValue<double>(), 0.3, 1));
    }
}

/// <summary>The service over the repository's committed default models (read only: no watcher).</summary>
public sealed class DefaultModelsFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ModelStore:Path", FixtureModels.DefaultModels);
        builder.UseSetting("ModelStore:Watch", "false");
        builder.UseSetting("Serilog:ConsoleFormat", "none");
    }
}
