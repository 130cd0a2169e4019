using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>The SPMKD contract: discovered keypoints, named joints, heatmaps and the reconstructed map, for an SLP-sized mat.</summary>
public sealed class SpmkdTests : IDisposable
{
    private const int Width = 84, Height = 192; // SLP mat: 84 columns x 192 rows
    private readonly ApiFactory _factory = new(["spmkd"], new Dictionary<string, string?>());
    private readonly HttpClient _client;

    public SpmkdTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private static float[] PressureMap()
    {
        // A body-like blob: two ellipses of pressure in kPa.
        var map = new float[Width * Height];
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                double torso = Math.Pow((x - 42) / 14.0, 2) + Math.Pow((y - 70) / 40.0, 2);
                double legs = Math.Pow((x - 42) / 10.0, 2) + Math.Pow((y - 140) / 40.0, 2);
                map[y * Width + x] = (float)(torso < 1 ? 20 * (1 - torso) : legs < 1 ? 12 * (1 - legs) : 0);
            }
        return map;
    }

    private async Task<JsonNode> Post(HttpContent content, string query = "?include=heatmaps,reconstruction")
    {
        var response = await _client.PostAsync("/v1/models/spmkd/predict" + query, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    private static void AssertSpmkdResponse(JsonNode r)
    {
        Assert.Equal("spmkd", r["task"]!.GetValue<string>());
        Assert.Equal(Width, r["width"]!.GetValue<int>());
        Assert.Equal(Height, r["height"]!.GetValue<int>());
        var keypoints = r["keypoints"]!.AsArray();
        Assert.NotEmpty(keypoints);
        var joints = r["joints"]!.AsArray();
        Assert.Equal(14, joints.Count);
        Assert.Contains("head_top", joints.Select(j => j!["name"]!.GetValue<string>()));
        Assert.NotEmpty(r["joint_links"]!.AsArray());
        var posture = r["posture"]!;
        var probabilities = posture["probabilities"]!.AsObject();
        Assert.Equal(["supine", "left_side", "right_side", "prone"], probabilities.Select(p => p.Key));
        Assert.Equal(1.0, probabilities.Sum(p => p.Value!.GetValue<double>()), 4);
        Assert.Equal(probabilities.MaxBy(p => p.Value!.GetValue<double>()).Key, posture["label"]!.GetValue<string>());
        foreach (var p in keypoints.Concat(joints))
            Assert.Equal(p!["x_norm"]!.GetValue<double>() * Width, p["x"]!.GetValue<double>(), 9);
        Assert.Equal(keypoints.Count, r["heatmaps"]!.AsArray().Count);
        var reconstruction = r["reconstruction"]!;
        Assert.Equal(Width, reconstruction["width"]!.GetValue<int>());
        Assert.Equal(Height, reconstruction["height"]!.GetValue<int>());
        Assert.Equal(Height, reconstruction["data"]!.AsArray().Count);
        Assert.Equal(Width, reconstruction["data"]![0]!.AsArray().Count);
    }

    [Fact]
    public async Task Csv_npy_and_json_give_keypoints_joints_heatmaps_and_reconstruction()
    {
        var map = PressureMap();
        var csv = new StringBuilder();
        for (var y = 0; y < Height; y++) csv.AppendLine(string.Join(",", map.AsSpan(y * Width, Width).ToArray()));
        var rows = Enumerable.Range(0, Height).Select(y => "[" + string.Join(",", map.AsSpan(y * Width, Width).ToArray()) + "]");

        var fromCsv = await Post(new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var fromNpy = await Post(TestInputs.Content(TestInputs.Npy("<f4", [Height, Width], TestInputs.Float32(map)), "application/x-npy"));
        var fromJson = await Post(TestInputs.Json("{\"data\": [" + string.Join(",", rows) + "], \"include\": [\"heatmaps\", \"reconstruction\"]}"), "");
        foreach (var r in new[] { fromCsv, fromNpy, fromJson }) AssertSpmkdResponse(r);
        Assert.Equal(fromCsv["joints"]!.ToJsonString(), fromNpy["joints"]!.ToJsonString());
        Assert.Equal(fromCsv["keypoints"]!.ToJsonString(), fromJson["keypoints"]!.ToJsonString());
    }

    [Fact]
    public async Task Reconstruction_is_in_the_callers_units_and_optional()
    {
        var map = PressureMap();
        var plain = await Post(TestInputs.Content(TestInputs.Float32(map), "application/octet-stream"), $"?width={Width}&height={Height}");
        Assert.Null(plain["reconstruction"]);
        Assert.Null(plain["heatmaps"]);
        var png = await Post(TestInputs.Content(TestInputs.Float32(map), "application/octet-stream"), $"?width={Width}&height={Height}&include=reconstruction&map_format=png");
        Assert.NotNull(png["reconstruction"]!["png_base64"]);
        // Scaling the input by a gain scales the reconstruction by the same gain (max normalisation is gain-invariant).
        var r1 = await Post(TestInputs.Content(TestInputs.Float32(map), "application/octet-stream"), $"?width={Width}&height={Height}&include=reconstruction");
        var r2 = await Post(TestInputs.Content(TestInputs.Float32(map.Select(v => v * 3).ToArray()), "application/octet-stream"), $"?width={Width}&height={Height}&include=reconstruction");
        var manifest = JsonNode.Parse(await _client.GetStringAsync("/v1/models/spmkd"))!;
        Assert.Equal("max", manifest["input"]!["normalization"]!.GetValue<string>());
        var (max1, max2) = (r1["reconstruction"]!["max"]!.GetValue<float>(), r2["reconstruction"]!["max"]!.GetValue<float>());
        Assert.True(Math.Abs(max2 - 3 * max1) <= 1e-3 * Math.Abs(max2), $"reconstruction max {max2} vs 3 x {max1}");
        Assert.Equal(r1["joints"]!.ToJsonString(), r2["joints"]!.ToJsonString());
    }
}
