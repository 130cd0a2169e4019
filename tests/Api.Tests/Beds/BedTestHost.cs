using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests.Beds;

/// <summary>The service in-process with the fixture SPMKD model (which has a posture head) and a temporary bed data directory.</summary>
public sealed class BedTestHost : IDisposable
{
    public const long T0 = 1_800_000_000_000;

    public BedTestHost(IDictionary<string, string?>? settings = null)
    {
        DataPath = Directory.CreateTempSubdirectory("kps-beds-api-").FullName;
        var all = new Dictionary<string, string?>
        {
            ["Beds:DataPath"] = DataPath,
            ["Beds:DwellSeconds"] = "0",
            ["Beds:SensorTimeoutSeconds"] = "60",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        Factory = new ApiFactory(["spmkd"], all);
        Client = Factory.CreateClient();
    }

    public ApiFactory Factory { get; }
    public HttpClient Client { get; }
    public string DataPath { get; }

    /// <summary>An 84 × 192 body-like pressure map as CSV; <paramref name="shift"/> moves it sideways.</summary>
    public static string Csv(int shift = 0)
    {
        var sb = new StringBuilder();
        for (var y = 0; y < 192; y++)
        {
            for (var x = 0; x < 84; x++)
            {
                double torso = Math.Pow((x - 42 - shift) / 14.0, 2) + Math.Pow((y - 70) / 40.0, 2);
                double legs = Math.Pow((x - 42 - shift) / 10.0, 2) + Math.Pow((y - 140) / 40.0, 2);
                var v = torso < 1 ? 20 * (1 - torso) : legs < 1 ? 12 * (1 - legs) : 0;
                sb.Append(v.ToString("0.###", CultureInfo.InvariantCulture)).Append(x < 83 ? ',' : '\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>The same map as JSON rows.</summary>
    public static JsonArray Rows(int shift = 0) =>
        new(Csv(shift).TrimEnd('\n').Split('\n').Select(line => (JsonNode)new JsonArray(line.Split(',').Select(v => (JsonNode)JsonValue.Create(double.Parse(v, CultureInfo.InvariantCulture))!).ToArray())).ToArray());

    public Task<HttpResponseMessage> PostCsv(string bed, string query, int shift = 0) =>
        Client.PostAsync($"/v1/beds/{bed}/frames{query}", new StringContent(Csv(shift), Encoding.UTF8, "text/csv"));

    public Task<HttpResponseMessage> PostJson(string bed, JsonObject body, string query = "") =>
        Client.PostAsync($"/v1/beds/{bed}/frames{query}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    public static async Task<JsonNode> ReadJson(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    public static async Task<JsonNode> Problem(HttpResponseMessage response, HttpStatusCode expected, string detailPart)
    {
        var problem = await ReadJson(response, expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem["status"]!.GetValue<int>());
        Assert.Contains(detailPart, problem["detail"]!.GetValue<string>());
        return problem;
    }

    public void Dispose()
    {
        Client.Dispose();
        Factory.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataPath, recursive: true); } catch (IOException) { }
    }
}
