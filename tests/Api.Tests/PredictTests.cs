using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

public class PredictTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonNode> PostOk(string url, HttpContent content)
    {
        var response = await _client.PostAsync(url, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    private static void AssertKeypoints(JsonNode result, int width, int height, string model = "heatmap")
    {
        Assert.Equal(model, result["model"]!.GetValue<string>());
        Assert.Equal(width, result["width"]!.GetValue<int>());
        Assert.Equal(height, result["height"]!.GetValue<int>());
        var keypoints = result["keypoints"]!.AsArray();
        Assert.Equal(["head", "left_hand", "right_hand", "left_foot", "right_foot"], keypoints.Select(k => k!["name"]!.GetValue<string>()));
        foreach (var k in keypoints)
        {
            var x = k!["x"]!.GetValue<double>();
            var xn = k["x_norm"]!.GetValue<double>();
            Assert.Equal(xn * width, x, 9);
            Assert.Equal(k["y_norm"]!.GetValue<double>() * height, k["y"]!.GetValue<double>(), 9);
        }
        Assert.Equal(4, result["links"]!.AsArray().Count);
        Assert.True(result["timings_ms"]!["inference"]!.GetValue<double>() > 0);
    }

    [Fact]
    public async Task Json_rows()
    {
        var result = await PostOk("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(128, 128)));
        AssertKeypoints(result, 128, 128);
        Assert.Null(result["heatmaps"]);
        Assert.NotNull(result["keypoints"]![0]!["confidence"]);
    }

    [Fact]
    public async Task Every_body_type_gives_the_same_keypoints_for_the_same_map()
    {
        const int w = 96, h = 80;
        var map = TestInputs.Map(w, h);
        var reference = await PostOk("/v1/models/heatmap/predict", TestInputs.Json(TestInputs.DataJson(w, h)));
        var png = TestInputs.Png(w, h);

        using var multipart = new MultipartFormDataContent();
        multipart.Add(TestInputs.Content(png, "image/png"), "file", "map.png");
        var npyPayload = TestInputs.Float32(map);
        using var multipartNpy = new MultipartFormDataContent();
        multipartNpy.Add(new ByteArrayContent(TestInputs.Npy("<f4", [h, w], npyPayload)), "file", "map.npy");

        var bodies = new (string Url, HttpContent Content)[]
        {
            ("/v1/models/heatmap/predict", TestInputs.Json($"{{\"image\": \"{Convert.ToBase64String(png)}\"}}")),
            ("/v1/models/heatmap/predict", TestInputs.Json($"{{\"data_b64\": \"{Convert.ToBase64String(TestInputs.Float32(map))}\", \"width\": {w}, \"height\": {h}}}")),
            ("/v1/models/heatmap/predict", TestInputs.Content(png, "image/png")),
            ("/v1/models/heatmap/predict", new StringContent(TestInputs.Csv(w, h), System.Text.Encoding.UTF8, "text/csv")),
            ("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Npy("<f4", [h, w], npyPayload), "application/x-npy")),
            ("/v1/models/heatmap/predict", TestInputs.Content(TestInputs.Npy("|u1", [h, w], map.Select(v => (byte)v).ToArray()), "application/x-npy")),
            ($"/v1/models/heatmap/predict?width={w}&height={h}", TestInputs.Content(TestInputs.Float32(map), "application/octet-stream")),
            ("/v1/models/heatmap/predict", multipart),
            ("/v1/models/heatmap/predict", multipartNpy),
        };
        foreach (var (url, content) in bodies)
        {
            var result = await PostOk(url, content);
            AssertKeypoints(result, w, h);
            for (var k = 0; k < 5; k++)
            {
                Assert.Equal(reference["keypoints"]![k]!["x"]!.GetValue<double>(), result["keypoints"]![k]!["x"]!.GetValue<double>(), 6);
                Assert.Equal(reference["keypoints"]![k]!["y"]!.GetValue<double>(), result["keypoints"]![k]!["y"]!.GetValue<double>(), 6);
            }
        }
    }

    [Fact]
    public async Task Heatmaps_as_arrays_and_as_png()
    {
        var array = await PostOk("/v1/models/heatmap/predict?include=heatmaps", TestInputs.Content(TestInputs.Png(128, 128), "image/png"));
        var maps = array["heatmaps"]!.AsArray();
        Assert.Equal(5, maps.Count);
        Assert.Equal(64, maps[0]!["data"]!.AsArray().Count);
        Assert.Equal(64, maps[0]!["data"]![0]!.AsArray().Count);

        var png = await PostOk("/v1/models/heatmap/predict", TestInputs.Json(
            $"{{\"image\": \"{Convert.ToBase64String(TestInputs.Png(128, 128))}\", \"include\": [\"heatmaps\"], \"map_format\": \"png\"}}"));
        var first = png["heatmaps"]![0]!;
        Assert.Null(first["data"]);
        var decoded = KeypointService.Models.Inputs.InputDecoders.DecodePng(Convert.FromBase64String(first["png_base64"]!.GetValue<string>()));
        Assert.Equal(64, decoded.Width);
        // The PNG encodes (v - min) / (max - min) in 16 bits: decoding it restores the array within quantisation.
        float min = first["min"]!.GetValue<float>(), max = first["max"]!.GetValue<float>();
        var row0 = maps[0]!["data"]![0]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        for (var x = 0; x < 64; x++)
            Assert.Equal(row0[x], min + decoded.Data[x] / 255f * (max - min), (max - min) / 1000f);
    }

    [Fact]
    public async Task Regression_model_returns_unconfident_keypoints_in_caller_pixels()
    {
        var result = await PostOk("/v1/models/regression/predict", TestInputs.Content(TestInputs.Png(200, 150), "image/png"));
        AssertKeypoints(result, 200, 150, "regression");
        Assert.Null(result["keypoints"]![0]!["confidence"]);
        foreach (var k in result["keypoints"]!.AsArray())
            Assert.InRange(k!["x_norm"]!.GetValue<double>(), 0, 1);
    }

    [Fact]
    public async Task Batch_reports_bad_items_without_failing_the_others()
    {
        var good = TestInputs.DataJson(32, 32);
        var body = $"{{\"items\": [{good}, {{\"data\": [[1, 2], [3]]}}, {{\"image\": \"bm90IGFuIGltYWdl\"}}, {good}]}}";
        var result = await PostOk("/v1/models/heatmap/predict-batch?include=heatmaps", TestInputs.Json(body));
        var items = result["items"]!.AsArray();
        Assert.Equal(4, items.Count);
        Assert.NotNull(items[0]!["result"]);
        Assert.NotNull(items[3]!["result"]);
        Assert.Equal(400, items[1]!["error"]!["status"]!.GetValue<int>());
        Assert.Contains("items[1].data", items[1]!["error"]!["detail"]!.GetValue<string>());
        Assert.Contains("items[2].image", items[2]!["error"]!["detail"]!.GetValue<string>());
        Assert.Equal(5, items[3]!["result"]!["heatmaps"]!.AsArray().Count);
        // Batched inference gives the same answer as single inference.
        var single = await PostOk("/v1/models/heatmap/predict", TestInputs.Json(good));
        Assert.Equal(single["keypoints"]![2]!["x"]!.GetValue<double>(), items[0]!["result"]!["keypoints"]![2]!["x"]!.GetValue<double>(), 4);
    }

    [Fact]
    public async Task Models_catalogue_and_health()
    {
        var list = await _client.GetFromJsonAsync<JsonArray>("/v1/models");
        var heatmap = list!.First(m => m!["name"]!.GetValue<string>() == "heatmap")!;
        Assert.Equal("loaded", heatmap["state"]!.GetValue<string>());
        Assert.Equal("CPUExecutionProvider", heatmap["execution_provider"]!.GetValue<string>());
        Assert.Equal("missing", list!.First(m => m!["name"]!.GetValue<string>() == "spmkd")!["state"]!.GetValue<string>());

        var detail = await _client.GetFromJsonAsync<JsonObject>("/v1/models/regression");
        Assert.Equal("regression", detail!["task"]!.GetValue<string>());
        Assert.Equal(128, detail["input"]!["width"]!.GetValue<int>());
        Assert.NotNull(detail["training"]);

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        var ready = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // spmkd is optional in this factory
    }

    [Fact]
    public async Task Swagger_documents_every_endpoint_with_examples()
    {
        var doc = JsonNode.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var paths = doc["paths"]!.AsObject();
        foreach (var path in new[] { "/v1/models/{name}/predict", "/v1/models/{name}/predict-batch", "/v1/models", "/v1/models/{name}", "/health/live", "/health/ready",
                     "/v1/beds", "/v1/beds/{bedId}", "/v1/beds/{bedId}/frames", "/v1/beds/{bedId}/events", "/v1/beds/{bedId}/events/stream" })
            Assert.True(paths.ContainsKey(path), $"missing {path}");
        var predict = paths["/v1/models/{name}/predict"]!["post"]!;
        Assert.False(string.IsNullOrWhiteSpace(predict["description"]?.GetValue<string>()));
        var content = predict["requestBody"]!["content"]!.AsObject();
        foreach (var type in new[] { "application/json", "image/png", "image/jpeg", "text/csv", "application/x-npy", "application/octet-stream", "multipart/form-data" })
            Assert.True(content.ContainsKey(type), $"request body lacks {type}");
        Assert.NotNull(content["application/json"]!["examples"]!["data"]);
        foreach (var parameter in predict["parameters"]!.AsArray())
        {
            Assert.NotNull(parameter!["example"]);
            Assert.False(string.IsNullOrWhiteSpace(parameter["description"]?.GetValue<string>()), $"parameter {parameter["name"]} has no description");
        }
        foreach (var (path, item) in paths)
            foreach (var (_, operation) in item!.AsObject())
            {
                Assert.False(string.IsNullOrWhiteSpace(operation!["summary"]?.GetValue<string>()), $"{path} has no summary");
                var success = operation["responses"]!.AsObject().First(r => r.Key.StartsWith('2'));
                if (success.Key != "204") Assert.NotNull(success.Value!["content"]!.AsObject().First().Value!["example"]);
            }
        foreach (var (name, schema) in doc["components"]!["schemas"]!.AsObject())
            Assert.True(schema!["example"] is not null || schema["examples"] is not null, $"schema {name} has no example");
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/swagger/index.html")).StatusCode);
    }
}
