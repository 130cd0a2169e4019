using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>What a new user reads from responses and the catalogue: scores, warnings, outputs a model lacks.</summary>
public class UserFacingContractTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<(HttpStatusCode Status, JsonNode Body)> Post(string url, HttpContent content)
    {
        var response = await _client.PostAsync(url, content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Score_is_the_confidence_clamped_to_the_unit_interval()
    {
        var (status, body) = await Post("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Png(64, 64), "image/png"));
        Assert.Equal(HttpStatusCode.OK, status);
        foreach (var k in body["keypoints"]!.AsArray())
        {
            var confidence = k!["confidence"]!.GetValue<double>();
            Assert.Equal(Math.Clamp(confidence, 0, 1), k["score"]!.GetValue<double>());
        }
        var (_, regression) = await Post("/v1/models/regression/predict", TestInputs.Content(TestInputs.Png(64, 64), "image/png"));
        Assert.All(regression["keypoints"]!.AsArray(), k => Assert.Null(k!["score"]));
    }

    [Theory]
    [InlineData("/v1/models/regression/predict?include=heatmaps", "{\"data\": [[1, 2], [3, 4]]}")]
    [InlineData("/v1/models/regression/predict", "{\"data\": [[1, 2], [3, 4]], \"include\": [\"heatmaps\"]}")]
    [InlineData("/v1/models/heatmap/predict?include=reconstruction", "{\"data\": [[1, 2], [3, 4]]}")]
    public async Task Asking_for_an_output_the_model_lacks_is_a_400_naming_what_it_can_return(string url, string json)
    {
        var (status, body) = await Post(url, TestInputs.Json(json));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var detail = body["detail"]!.GetValue<string>();
        Assert.Matches("^model '(regression|heatmap)' has no (heatmaps|reconstruction); it can return: keypoints", detail);
        if (url.Contains("heatmap/")) Assert.EndsWith("keypoints, heatmaps", detail);
    }

    [Fact]
    public async Task A_batch_item_asking_for_a_missing_output_gets_its_own_error()
    {
        var body = "{\"items\": [{\"data\": [[1, 2], [3, 4]]}, {\"data\": [[1, 2], [3, 4]], \"include\": [\"heatmaps\"]}]}";
        var (status, result) = await Post("/v1/models/regression/predict-batch", TestInputs.Json(body));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(result["items"]![0]!["result"]);
        Assert.Contains("has no heatmaps", result["items"]![1]!["error"]!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Input_of_the_wrong_kind_is_run_with_a_warning()
    {
        var (status, csv) = await Post("/v1/models/heatmap/predict", TestInputs.Content(System.Text.Encoding.ASCII.GetBytes(TestInputs.Csv(16, 16)), "text/csv"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("model 'heatmap' expects a grayscale image (values 0..255), got text/csv data: its values were taken as grey levels",
            Assert.Single(csv["warnings"]!.AsArray())!.GetValue<string>());
        var (_, png) = await Post("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Png(16, 16), "image/png"));
        Assert.False(png.AsObject().ContainsKey("warnings"));
    }

    [Fact]
    public async Task The_catalogue_leaves_out_what_it_does_not_list()
    {
        var list = await _client.GetFromJsonAsync<JsonArray>("/v1/models");
        foreach (var model in list!)
        {
            Assert.False(model!.AsObject().ContainsKey("metrics"), "the list carries metrics: null");
            Assert.False(model.AsObject().ContainsKey("training"), "the list carries training: null");
        }
        var detail = await _client.GetFromJsonAsync<JsonObject>("/v1/models/heatmap");
        Assert.NotNull(detail!["training"]);
        Assert.Equal(["keypoints", "heatmaps"], detail["outputs"]!.AsArray().Select(o => o!.GetValue<string>()));
    }
}

/// <summary>The OpenAPI document describes the store being served, not fixed text.</summary>
public sealed class SwaggerDescribesTheStoreTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?>());

    public SwaggerDescribesTheStoreTests() => _factory.CopyFixture("heatmap", "7"); // before start: version 7 is served

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Model_names_and_example_versions_are_the_served_ones()
    {
        var doc = JsonNode.Parse(await _factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json"))!;
        var predict = doc["paths"]!["/v1/models/{name}/predict"]!["post"]!;
        var name = predict["parameters"]!.AsArray().First(p => p!["name"]!.GetValue<string>() == "name")!;
        Assert.Contains("this service serves: heatmap, regression, spmkd", name["description"]!.GetValue<string>());
        var example = predict["responses"]!["200"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal("heatmap", example["model"]!.GetValue<string>());
        Assert.Equal("7", example["version"]!.GetValue<string>());
        var model = doc["paths"]!["/v1/models/{name}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal(["1", "7"], model["available_versions"]!.AsArray().Select(v => v!.GetValue<string>()));
    }
}

/// <summary>ModelStore:Pinned serves a named version instead of the newest and says so.</summary>
public sealed class PinnedVersionTests : IDisposable
{
    private readonly ApiFactory _factory = new(["heatmap", "regression"], new Dictionary<string, string?> { ["ModelStore:Pinned:heatmap"] = "1" });

    public PinnedVersionTests() => _factory.CopyFixture("heatmap", "7"); // newer, but not pinned

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_pinned_version_answers_and_the_catalogue_names_the_pin()
    {
        var client = _factory.CreateClient();
        var model = await client.GetFromJsonAsync<JsonObject>("/v1/models/heatmap");
        Assert.Equal(("1", "1"), (model!["version"]!.GetValue<string>(), model["pinned_version"]!.GetValue<string>()));
        Assert.Equal(["1", "7"], model["available_versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Png(16, 16), "image/png"));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("1", answer["version"]!.GetValue<string>());
        var regression = await client.GetFromJsonAsync<JsonObject>("/v1/models/regression");
        Assert.False(regression!.ContainsKey("pinned_version"));
    }
}

/// <summary>ModelStore:Pinned changed in a reloaded configuration file takes effect without a restart.</summary>
public sealed class PinReloadTests : IDisposable
{
    private readonly string _config = Path.Combine(Directory.CreateTempSubdirectory("kps-config-").FullName, "pins.json");
    private readonly ApiFactory _factory;

    public PinReloadTests()
    {
        File.WriteAllText(_config, """{"ModelStore": {"Pinned": {"heatmap": "1"}}}""");
        _factory = new ApiFactory(["heatmap", "regression"], new Dictionary<string, string?>(), _config);
        _factory.CopyFixture("heatmap", "7");
    }

    public void Dispose()
    {
        _factory.Dispose();
        Directory.Delete(Path.GetDirectoryName(_config)!, recursive: true);
    }

    [Fact]
    public async Task Editing_the_pin_in_the_configuration_file_swaps_the_served_version()
    {
        var client = _factory.CreateClient();
        Assert.Equal("1", (await client.GetFromJsonAsync<JsonObject>("/v1/models/heatmap"))!["version"]!.GetValue<string>());
        File.WriteAllText(_config, """{"ModelStore": {"Pinned": {"heatmap": ""}}}"""); // unpinned: the newest
        JsonObject model;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await Task.Delay(100);
            model = (await client.GetFromJsonAsync<JsonObject>("/v1/models/heatmap"))!;
        } while (model["version"]!.GetValue<string>() != "7" && DateTime.UtcNow < deadline);
        Assert.Equal("7", model["version"]!.GetValue<string>());
        Assert.False(model.ContainsKey("pinned_version"));
        var response = await client.PostAsync("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Png(16, 16), "image/png"));
        Assert.Equal("7", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["version"]!.GetValue<string>());
        Assert.Contains(_factory.Logs.Messages(), m => m.Contains("ModelStore:Pinned is now empty"));
    }
}
