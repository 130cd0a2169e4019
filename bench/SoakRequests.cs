using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace KeypointService.Bench;

/// <summary>One kind of request of the soak: a name, whether it is a deliberately bad input (expects 4xx), and how to send it (returns the HTTP status).</summary>
internal sealed record SoakRequest(string Name, bool Bad, Func<HttpClient, CancellationToken, Task<int>> Send);

/// <summary>
/// The soak's request mix: every model, every body type (PNG, JPEG, raw float32, JSON rows / base64 image /
/// base64 float32, CSV, .npy, multipart, predict-batch, OIP /v2), bed frames in time order, and bad inputs
/// that must be answered 4xx (truncated PNG, unparsable CSV, wrong raw size, unknown model, unsupported media
/// type, bad timestamp, out-of-order frame, malformed JSON).
/// </summary>
internal static class SoakRequests
{
    public static (IReadOnlyList<SoakRequest> Good, IReadOnlyList<SoakRequest> Bad) Create(string store, string examples, int beds)
    {
        var inputs = BenchmarkInputs.Load(store).ToDictionary(i => i.Model);
        var png = File.ReadAllBytes(Path.Combine(examples, "stick-figure.png"));
        var jpeg = File.ReadAllBytes(Path.Combine(examples, "stick-figure.jpg"));
        var csv = File.ReadAllBytes(Path.Combine(examples, "pressure-map.csv"));
        var npy = File.ReadAllBytes(Path.Combine(examples, "pressure-map.npy"));
        var heatmap = inputs["heatmap"];
        var spmkd = inputs["spmkd"];
        var pngJson = $"{{\"image\": \"{Convert.ToBase64String(png)}\"}}";
        var good = new List<SoakRequest>
        {
            Body("heatmap png", "v1/models/heatmap/predict", png, "image/png"),
            Body("heatmap jpeg", "v1/models/heatmap/predict", jpeg, "image/jpeg"),
            Raw("heatmap raw", heatmap),
            Body("heatmap json image", "v1/models/heatmap/predict", Encoding.UTF8.GetBytes(pngJson), "application/json"),
            Multipart("heatmap multipart", "v1/models/heatmap/predict", png, "stick-figure.png", "image/png"),
            Body("heatmap predict-batch", "v1/models/heatmap/predict-batch",
                Encoding.UTF8.GetBytes($"{{\"items\": [{pngJson}, {pngJson}]}}"), "application/json"),
            Body("heatmap oip", "v2/models/heatmap/infer", Encoding.UTF8.GetBytes(BenchmarkInputs.OipJson(heatmap)), "application/json"),
            Body("regression png", "v1/models/regression/predict", png, "image/png"),
            Raw("multi raw", inputs["multi"]),
            Body("spmkd csv", "v1/models/spmkd/predict", csv, "text/csv"),
            Body("spmkd npy", "v1/models/spmkd/predict", npy, "application/x-npy"),
            Raw("spmkd raw", spmkd),
            Body("spmkd json rows", "v1/models/spmkd/predict", Encoding.UTF8.GetBytes(BenchmarkInputs.DataJson(spmkd)), "application/json"),
            Multipart("spmkd multipart", "v1/models/spmkd/predict", npy, "pressure-map.npy", "application/x-npy"),
        };
        good.AddRange(Enumerable.Range(0, beds).Select(b => BedFrames($"soak-bed-{b}", spmkd)));
        var bad = new List<SoakRequest>
        {
            Body("bad: truncated png", "v1/models/heatmap/predict", png[..40], "image/png", bad: true),
            Body("bad: csv with text", "v1/models/spmkd/predict", "1,2,3\n4,five,6\n"u8.ToArray(), "text/csv", bad: true),
            Body("bad: raw of the wrong size", "v1/models/spmkd/predict?width=10&height=10", new byte[12], "application/octet-stream", bad: true),
            Body("bad: unknown model", "v1/models/nosuchmodel/predict", png, "image/png", bad: true),
            Body("bad: media type", "v1/models/heatmap/predict", "hello"u8.ToArray(), "text/plain", bad: true),
            Body("bad: timestamp", "v1/beds/soak-bed-bad/frames?timestamp=yesterday", npy, "application/x-npy", bad: true),
            Body("bad: out-of-order frame", "v1/beds/soak-bed-0/frames?timestamp=1000", npy, "application/x-npy", bad: true),
            Body("bad: malformed json", "v1/models/spmkd/predict", "{\"data\": [[1,2],"u8.ToArray(), "application/json", bad: true),
        };
        return (good, bad);
    }

    private static SoakRequest Body(string name, string path, byte[] body, string mediaType, bool bad = false) =>
        new(name, bad, (http, ct) => SendAsync(http, path, Content(new ByteArrayContent(body), mediaType), ct));

    private static SoakRequest Raw(string name, BenchmarkInputs.Input input)
    {
        var bytes = new byte[input.Raw.Length * 4];
        Buffer.BlockCopy(input.Raw, 0, bytes, 0, bytes.Length);
        return Body(name, $"v1/models/{input.Model}/predict?width={input.Width}&height={input.Height}", bytes, "application/octet-stream");
    }

    private static SoakRequest Multipart(string name, string path, byte[] file, string fileName, string mediaType) =>
        new(name, false, (http, ct) =>
        {
            var form = new MultipartFormDataContent { { Content(new ByteArrayContent(file), mediaType), "file", fileName } };
            return SendAsync(http, path, form, ct);
        });

    /// <summary>One bed's frames, one at a time (a bed's frames must arrive in time order), one simulated second apart, each with a frame id.</summary>
    private static SoakRequest BedFrames(string bed, BenchmarkInputs.Input spmkd)
    {
        var bytes = new byte[spmkd.Raw.Length * 4];
        Buffer.BlockCopy(spmkd.Raw, 0, bytes, 0, bytes.Length);
        var gate = new SemaphoreSlim(1, 1);
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long k = 0;
        return new SoakRequest($"bed frame", false, async (http, ct) =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var n = k++;
                var query = string.Create(CultureInfo.InvariantCulture,
                    $"?width={spmkd.Width}&height={spmkd.Height}&timestamp={start + n * 1000}&frame_id=f{n}");
                return await SendAsync(http, $"v1/beds/{bed}/frames{query}", Content(new ByteArrayContent(bytes), "application/octet-stream"), ct);
            }
            finally { gate.Release(); }
        });
    }

    private static HttpContent Content(HttpContent content, string mediaType)
    {
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    private static async Task<int> SendAsync(HttpClient http, string path, HttpContent content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        using var response = await http.SendAsync(request, ct);
        await response.Content.ReadAsByteArrayAsync(ct); // the whole answer, as a client would read it
        return (int)response.StatusCode;
    }
}
