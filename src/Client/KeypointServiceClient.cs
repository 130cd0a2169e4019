using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace KeypointService.Client;

/// <summary>
/// Typed client of KeypointService: prediction, per-bed monitoring and the bed event stream.
/// Thread-safe; it does not own the <see cref="HttpClient"/> (use <see cref="IHttpClientFactory"/>,
/// <see cref="KeypointServiceClientServiceCollectionExtensions.AddKeypointServiceClient"/>, or one long-lived HttpClient).
/// A non-2xx answer throws <see cref="KeypointServiceException"/>.
/// </summary>
public sealed class KeypointServiceClient
{
    private const int MaxErrorBody = 64 * 1024;
    internal const string ApiKeyHeader = "X-API-Key";
    private readonly HttpClient _http;
    private readonly Uri? _baseAddress;

    /// <summary>A client over <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> is the service's address.</summary>
    [ActivatorUtilitiesConstructor]
    public KeypointServiceClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    /// <summary>A client over <paramref name="http"/> for the service at <paramref name="baseAddress"/> (e.g. http://127.0.0.1:8080/).</summary>
    public KeypointServiceClient(HttpClient http, Uri baseAddress) : this(http)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri) throw new ArgumentException("the base address must be absolute", nameof(baseAddress));
        _baseAddress = WithSlash(baseAddress);
    }

    /// <summary>
    /// The API key sent as <c>X-API-Key</c> on every request, for a service with access control on
    /// (docs/security.md in the service's repository); null: none.
    /// </summary>
    public string? ApiKey { get; init; }

    // ---------------------------------------------------------------- predict

    /// <summary>Predicts keypoints for one input in any body type the service accepts (<paramref name="mediaType"/>: image/png, image/jpeg, text/csv, application/x-npy, application/json, …). The stream is read from its current position and left open.</summary>
    public Task<PredictResult> PredictAsync(string model, Stream body, string mediaType, PredictOptions? options = null, CancellationToken cancellationToken = default) =>
        PredictCoreAsync(model, Content(new StreamContent(body), mediaType), options, null, cancellationToken);

    /// <inheritdoc cref="PredictAsync(string, Stream, string, PredictOptions?, CancellationToken)"/>
    public Task<PredictResult> PredictAsync(string model, byte[] body, string mediaType, PredictOptions? options = null, CancellationToken cancellationToken = default) =>
        PredictCoreAsync(model, Content(new ByteArrayContent(body), mediaType), options, null, cancellationToken);

    /// <summary>Predicts keypoints for a PNG or JPEG image; <paramref name="mediaType"/> null: recognised from the image's first bytes.</summary>
    public Task<PredictResult> PredictImageAsync(string model, byte[] image, string? mediaType = null, PredictOptions? options = null, CancellationToken cancellationToken = default) =>
        PredictAsync(model, image, mediaType ?? ImageMediaType(image), options, cancellationToken);

    /// <summary>Predicts keypoints for a pressure map given as [row, column] (height × width), sent as raw float32.</summary>
    public Task<PredictResult> PredictPressureMapAsync(string model, float[,] map, PredictOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (content, width, height) = RawContent(map);
        return PredictCoreAsync(model, content, options, (width, height), cancellationToken);
    }

    /// <summary>Predicts keypoints for a pressure map of <paramref name="width"/> × <paramref name="height"/> values in row-major order, sent as raw float32.</summary>
    public Task<PredictResult> PredictPressureMapAsync(string model, ReadOnlyMemory<float> values, int width, int height, PredictOptions? options = null,
        CancellationToken cancellationToken = default) =>
        PredictCoreAsync(model, RawContent(values.Span, width, height), options, (width, height), cancellationToken);

    private async Task<PredictResult> PredictCoreAsync(string model, HttpContent content, PredictOptions? options, (int Width, int Height)? size,
        CancellationToken cancellationToken)
    {
        var query = new Query();
        if (options?.Include is { Count: > 0 } include) query.Add("include", string.Join(',', include));
        if (options?.MapFormat is { } format) query.Add("map_format", format);
        if (size is { } s) query.Add("width", s.Width).Add("height", s.Height);
        // Not disposed: that would dispose a caller's stream body (the client leaves it open); the other contents hold nothing to release.
        var request = new HttpRequestMessage(HttpMethod.Post, Address($"v1/models/{Segment(model)}/predict", query)) { Content = content };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<PredictResult>(response, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- beds

    /// <summary>Posts one frame of <paramref name="bedId"/> in any body type predict accepts (query parameters timestamp and frame_id).</summary>
    public Task<BedFrameResult> PostFrameAsync(string bedId, Stream body, string mediaType, DateTimeOffset timestamp, string? frameId = null,
        CancellationToken cancellationToken = default) =>
        PostFrameCoreAsync(bedId, Content(new StreamContent(body), mediaType), timestamp, frameId, null, cancellationToken);

    /// <inheritdoc cref="PostFrameAsync(string, Stream, string, DateTimeOffset, string?, CancellationToken)"/>
    public Task<BedFrameResult> PostFrameAsync(string bedId, byte[] body, string mediaType, DateTimeOffset timestamp, string? frameId = null,
        CancellationToken cancellationToken = default) =>
        PostFrameCoreAsync(bedId, Content(new ByteArrayContent(body), mediaType), timestamp, frameId, null, cancellationToken);

    /// <summary>Posts one pressure frame given as [row, column] (height × width), sent as raw float32.</summary>
    public Task<BedFrameResult> PostFrameAsync(string bedId, float[,] map, DateTimeOffset timestamp, string? frameId = null,
        CancellationToken cancellationToken = default)
    {
        var (content, width, height) = RawContent(map);
        return PostFrameCoreAsync(bedId, content, timestamp, frameId, (width, height), cancellationToken);
    }

    /// <summary>Posts one pressure frame of <paramref name="width"/> × <paramref name="height"/> values in row-major order, sent as raw float32.</summary>
    public Task<BedFrameResult> PostFrameAsync(string bedId, ReadOnlyMemory<float> values, int width, int height, DateTimeOffset timestamp,
        string? frameId = null, CancellationToken cancellationToken = default) =>
        PostFrameCoreAsync(bedId, RawContent(values.Span, width, height), timestamp, frameId, (width, height), cancellationToken);

    private async Task<BedFrameResult> PostFrameCoreAsync(string bedId, HttpContent content, DateTimeOffset timestamp, string? frameId,
        (int Width, int Height)? size, CancellationToken cancellationToken)
    {
        var query = new Query().Add("timestamp", Time(timestamp));
        if (frameId is not null) query.Add("frame_id", frameId);
        if (size is { } s) query.Add("width", s.Width).Add("height", s.Height);
        var request = new HttpRequestMessage(HttpMethod.Post, Address($"v1/beds/{Segment(bedId)}/frames", query)) { Content = content }; // not disposed: see PredictCoreAsync
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var result = await ReadAsync<BedFrameResult>(response, cancellationToken).ConfigureAwait(false);
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Any(v => v.Equals("true", StringComparison.OrdinalIgnoreCase));
        return replayed ? result with { Replayed = true } : result;
    }

    /// <summary>One bed's state (404 problem for an unknown bed).</summary>
    public Task<BedState> GetBedAsync(string bedId, CancellationToken cancellationToken = default) =>
        GetAsync<BedState>(Address($"v1/beds/{Segment(bedId)}"), cancellationToken);

    /// <summary>Every monitored bed's state.</summary>
    public async Task<IReadOnlyList<BedState>> ListBedsAsync(CancellationToken cancellationToken = default) =>
        await GetAsync<List<BedState>>(Address("v1/beds"), cancellationToken).ConfigureAwait(false);

    /// <summary>Stops monitoring a bed: its state and events are deleted and its live streams end (404 problem for an unknown bed).</summary>
    public async Task DeleteBedAsync(string bedId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Address($"v1/beds/{Segment(bedId)}"));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets a bed's repositioning limit in minutes (null: back to the service's default); creates the bed if needed.</summary>
    public async Task<BedState> SetRepositionLimitAsync(string bedId, double? minutes, CancellationToken cancellationToken = default)
    {
        var json = minutes is { } m
            ? $"{{\"reposition_limit_minutes\":{m.ToString("R", CultureInfo.InvariantCulture)}}}"
            : "{\"reposition_limit_minutes\":null}";
        using var request = new HttpRequestMessage(HttpMethod.Put, Address($"v1/beds/{Segment(bedId)}"))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<BedState>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A page of a bed's events in id order: at or after <paramref name="since"/>, after the event id <paramref name="afterId"/>,
    /// at most <paramref name="limit"/> (1–1000; the service's default is 100).
    /// </summary>
    public Task<BedEventsPage> GetEventsAsync(string bedId, DateTimeOffset? since = null, long? afterId = null, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var query = new Query();
        if (since is { } s) query.Add("since", Time(s));
        if (afterId is { } a) query.Add("after_id", a);
        if (limit is { } l) query.Add("limit", l);
        return GetAsync<BedEventsPage>(Address($"v1/beds/{Segment(bedId)}/events", query), cancellationToken);
    }

    /// <summary>
    /// A bed's events as they happen (Server-Sent Events, <c>GET /v1/beds/{bedId}/events/stream</c>): first the stored events after
    /// <paramref name="lastEventId"/> (all of them when null), then live ones. A consumer slower than the bed gets a
    /// <see cref="BedEventTypes.Dropped"/> notice (<see cref="BedEvent.IsDropped"/>, <see cref="BedEvent.DroppedCount"/>) before the
    /// next event; reconnecting with the last event id seen fills the gap from storage. The sequence ends when the service ends the
    /// stream (e.g. the bed was deleted); it does not reconnect by itself. Cancel <paramref name="cancellationToken"/> to stop.
    /// An unknown bed or a bad id throws <see cref="KeypointServiceException"/> on the first MoveNextAsync.
    /// </summary>
    public async IAsyncEnumerable<BedEvent> StreamEventsAsync(string bedId, long? lastEventId = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Address($"v1/beds/{Segment(bedId)}/events/stream"));
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is { } last) request.Headers.TryAddWithoutValidation("Last-Event-ID", last.ToString(CultureInfo.InvariantCulture));
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (ToEvent(bedId, item) is { } e) yield return e;
        }
    }

    /// <summary>One SSE item as an event: <c>event</c> items are bed events, <c>dropped</c> items are notices; other types are skipped.</summary>
    internal static BedEvent? ToEvent(string bedId, SseItem<string> item)
    {
        switch (item.EventType)
        {
            case "event":
                return JsonSerializer.Deserialize<BedEvent>(item.Data, KeypointServiceJson.Options)
                    ?? throw new JsonException("an SSE event item without data");
            case BedEventTypes.Dropped:
                using (var document = JsonDocument.Parse(item.Data))
                {
                    var data = document.RootElement.Clone();
                    long? count = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("dropped", out var d) && d.TryGetInt64(out var n) ? n : null;
                    return new BedEvent(0, bedId, BedEventTypes.Dropped, DateTimeOffset.UtcNow, data) { DroppedCount = count };
                }
            default:
                return null; // forward compatibility: item types this client does not know
        }
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<T> GetAsync<T>(Uri address, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (ApiKey is { Length: > 0 } key) request.Headers.TryAddWithoutValidation(ApiKeyHeader, key);
        return _http.SendAsync(request, completion, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<T>(stream, KeypointServiceJson.Options, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException($"the service answered {(int)response.StatusCode} with an empty JSON document");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        string? body = null;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > MaxErrorBody) body = body[..MaxErrorBody];
        }
        catch (HttpRequestException) { }
        catch (IOException) { }
        throw new KeypointServiceException(response.StatusCode, ParseProblem(response, body), RetryAfter(response), body);
    }

    /// <summary>The problem document of an error answer; title and status from the HTTP answer when the body is not one.</summary>
    internal static ServiceProblem ParseProblem(HttpResponseMessage response, string? body)
    {
        var fallback = new ServiceProblem { Status = (int)response.StatusCode, Title = response.ReasonPhrase };
        if (string.IsNullOrWhiteSpace(body)) return fallback;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return fallback;
            string? Text(params string[] names)
            {
                foreach (var name in names)
                    if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString();
                return null;
            }
            return new ServiceProblem
            {
                Type = Text("type"),
                Title = Text("title") ?? fallback.Title,
                Status = root.TryGetProperty("status", out var s) && s.TryGetInt32(out var status) ? status : fallback.Status,
                Detail = Text("detail"),
                Instance = Text("instance"),
                TraceId = Text("traceId", "trace_id"),
                Raw = root.Clone(),
            };
        }
        catch (JsonException) { return fallback; }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } retry) return null;
        if (retry.Delta is { } delta) return delta;
        if (retry.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    private Uri Address(string path, Query? query = null)
    {
        var relative = query is null ? path : path + query;
        if (_baseAddress is not null) return new Uri(_baseAddress, relative);
        if (_http.BaseAddress is { } b) return new Uri(WithSlash(b), relative);
        throw new InvalidOperationException("KeypointServiceClient needs a base address: pass one or set HttpClient.BaseAddress");
    }

    private static Uri WithSlash(Uri address) =>
        address.AbsolutePath.EndsWith('/') ? address : new UriBuilder(address) { Path = address.AbsolutePath + "/" }.Uri;

    private static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    private static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static HttpContent Content(HttpContent content, string mediaType)
    {
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    private static (HttpContent Content, int Width, int Height) RawContent(float[,] map)
    {
        ArgumentNullException.ThrowIfNull(map);
        int height = map.GetLength(0), width = map.GetLength(1);
        return (RawContent(MemoryMarshal.Cast<byte, float>(MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(map), map.Length * sizeof(float))), width, height), width, height);
    }

    private static HttpContent RawContent(ReadOnlySpan<float> values, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height != values.Length)
            throw new ArgumentException($"{values.Length} values do not make a {width} × {height} map", nameof(values));
        var bytes = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values).CopyTo(bytes);
        else for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return Content(new ByteArrayContent(bytes), "application/octet-stream");
    }

    private static string ImageMediaType(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        ReadOnlySpan<byte> png = [0x89, (byte)'P', (byte)'N', (byte)'G'];
        if (image.AsSpan().StartsWith(png)) return "image/png";
        if (image.Length >= 3 && image[0] == 0xFF && image[1] == 0xD8 && image[2] == 0xFF) return "image/jpeg";
        throw new ArgumentException("not a PNG or JPEG image: pass its media type", nameof(image));
    }

    /// <summary>A query string builder with escaped values.</summary>
    private sealed class Query
    {
        private readonly StringBuilder _text = new();

        public Query Add(string name, string value)
        {
            _text.Append(_text.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            return this;
        }

        public Query Add(string name, long value) => Add(name, value.ToString(CultureInfo.InvariantCulture));

        public override string ToString() => _text.ToString();
    }
}
