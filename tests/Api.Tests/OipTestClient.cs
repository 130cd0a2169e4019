using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace KeypointService.Api.Tests;

/// <summary>Open Inference Protocol REST requests and responses, as a client would build and read them.</summary>
internal static class OipTestClient
{
    public const string HeaderLength = "Inference-Header-Content-Length";

    public static async Task<JsonNode> OkJson(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(body)!;
    }

    /// <summary>Asserts the protocol's error object: the status, {"error": "..."} containing the text, no stack trace.</summary>
    public static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string contains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var error = JsonNode.Parse(body)!["error"]!.GetValue<string>();
        Assert.Contains(contains, error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", body);
    }

    /// <summary>A binary-extension body: the JSON header, then the tensors' bytes.</summary>
    public static ByteArrayContent Binary(JsonNode header, params byte[][] tensors)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var content = new ByteArrayContent([.. json, .. tensors.SelectMany(t => t)]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(HeaderLength, json.Length.ToString());
        return content;
    }

    /// <summary>Splits a binary-extension response into its JSON header and each binary output's bytes, by name.</summary>
    public static async Task<(JsonNode Header, Dictionary<string, byte[]> Tensors)> ReadBinary(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var length = int.Parse(response.Headers.GetValues(HeaderLength).Single());
        var header = JsonNode.Parse(body.AsSpan(0, length))!;
        var tensors = new Dictionary<string, byte[]>();
        var at = length;
        foreach (var output in header["outputs"]!.AsArray())
        {
            if (output!["parameters"]?["binary_data_size"] is not { } size) continue;
            tensors[output["name"]!.GetValue<string>()] = body.AsSpan(at, size.GetValue<int>()).ToArray();
            at += size.GetValue<int>();
        }
        Assert.Equal(body.Length, at);
        return (header, tensors);
    }

    public static JsonNode Output(JsonNode response, string name) =>
        response["outputs"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == name)!;

    public static float[] Floats(JsonNode output) => output["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    public static long[] Shape(JsonNode node) => node["shape"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();

    public static float[] Floats(byte[] bytes)
    {
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    public static JsonArray Numbers(IEnumerable<float> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
