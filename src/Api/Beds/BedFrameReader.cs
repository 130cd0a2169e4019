using System.Buffers;
using System.Text.Json;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Inputs;
using KeypointService.Models.Inputs;

namespace KeypointService.Api.Beds;

/// <summary>A frame as received: the map, its time and the optional caller id.</summary>
public sealed record BedFrame(InputMap Map, long TimestampMs, string? FrameId);

/// <summary>
/// Reads a bed frame: any body predict accepts, plus <c>timestamp</c> and <c>frame_id</c> as query
/// parameters or (JSON bodies and WebSocket messages) as fields beside the input. Throws
/// <see cref="RequestProblemException"/> for bad input.
/// </summary>
public static class BedFrameReader
{
    public const string TimestampField = "timestamp";
    public const string FrameIdField = "frame_id";

    public static async Task<BedFrame> ReadAsync(HttpRequest request, RequestBodyReader reader, string? queryTimestamp, string? queryFrameId,
        RawSizeQuery rawSize, CancellationToken cancellation)
    {
        if (request.HasJsonContentType())
        {
            using var document = await reader.ReadJsonAsync(request, cancellation);
            return FromJson(document.RootElement, "body", queryTimestamp, queryFrameId);
        }
        var input = await reader.ReadSingleAsync(request, new OutputQuery(), rawSize, cancellation);
        return new BedFrame(input.Map, Timestamp(queryTimestamp, null), queryFrameId);
    }

    /// <summary>A JSON frame object: the predict fields plus timestamp and frame_id.</summary>
    public static BedFrame FromJson(JsonElement root, string path, string? queryTimestamp = null, string? queryFrameId = null)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw RequestProblemException.BadInput($"{path}: expected a JSON object with the frame (data, data_b64 or image) and its timestamp");
        string? timestamp = null, frameId = null;
        if (root.TryGetProperty(TimestampField, out var t))
            timestamp = t.ValueKind switch
            {
                JsonValueKind.String => t.GetString(),
                JsonValueKind.Number when t.TryGetInt64(out var ms) => ms.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => throw RequestProblemException.BadInput($"{path}.timestamp: expected an RFC 3339 string or integer Unix milliseconds, got {t.GetRawText()}"),
            };
        if (root.TryGetProperty(FrameIdField, out var f))
            frameId = f.ValueKind == JsonValueKind.String ? f.GetString()
                : throw RequestProblemException.BadInput($"{path}.frame_id: expected a string");
        if (timestamp is not null && queryTimestamp is not null && Times.TryParse(timestamp, out var a, out _) && Times.TryParse(queryTimestamp, out var b, out _) && a != b)
            throw RequestProblemException.BadInput($"timestamp given twice with different values (query {queryTimestamp}, {path} {timestamp})");
        if (frameId is not null && queryFrameId is not null && frameId != queryFrameId)
            throw RequestProblemException.BadInput($"frame_id given twice with different values (query {queryFrameId}, {path} {frameId})");
        var ms2 = Timestamp(timestamp ?? queryTimestamp, path);
        using var stripped = WithoutFrameFields(root);
        var (map, _) = JsonInputParser.ReadInput(stripped.RootElement, path, OutputSelection.Default);
        return new BedFrame(map, ms2, frameId ?? queryFrameId);
    }

    private static long Timestamp(string? text, string? path) =>
        Times.TryParse(text, out var ms, out var error) ? ms
            : throw RequestProblemException.BadInput(text is null && path is not null
                ? $"{error}: give it as the query parameter timestamp or the field {path}.timestamp" : error);

    private static JsonDocument WithoutFrameFields(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
                if (property.Name is not (TimestampField or FrameIdField)) property.WriteTo(writer);
            writer.WriteEndObject();
        }
        return JsonDocument.Parse(buffer.WrittenMemory);
    }
}
