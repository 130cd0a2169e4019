using System.Text.Json;
using System.Text.Json.Serialization;

namespace KeypointService.Client;

/// <summary>Optional outputs of a prediction (query parameters <c>include</c> and <c>map_format</c>).</summary>
public sealed record PredictOptions
{
    /// <summary>Extra outputs: <c>heatmaps</c>, <c>reconstruction</c> (only those the model has).</summary>
    public IReadOnlyList<string>? Include { get; init; }
    /// <summary><c>array</c> (default) or <c>png</c>: how heatmaps and reconstructions are returned.</summary>
    public string? MapFormat { get; init; }
}

/// <summary>Keypoints (and optional maps) predicted for one input (<c>POST /v1/models/{model}/predict</c>).</summary>
public sealed record PredictResult
{
    /// <summary>Model name.</summary>
    public required string Model { get; init; }
    /// <summary>Model version that served the request.</summary>
    public required string Version { get; init; }
    /// <summary>heatmap | regression | spmkd | multi.</summary>
    public required string Task { get; init; }
    /// <summary>Width of the input in pixels (sensor columns for a pressure map).</summary>
    public int Width { get; init; }
    /// <summary>Height of the input in pixels (sensor rows).</summary>
    public int Height { get; init; }
    /// <summary>Keypoints in the input's pixel coordinates and normalised to [0, 1].</summary>
    public IReadOnlyList<Keypoint> Keypoints { get; init; } = [];
    /// <summary>Skeleton links as index pairs into <see cref="Keypoints"/>.</summary>
    public IReadOnlyList<int[]> Links { get; init; } = [];
    /// <summary>Multi-figure models only: every figure found, best first.</summary>
    public IReadOnlyList<Instance>? Instances { get; init; }
    /// <summary>SPMKD only: named body joints.</summary>
    public IReadOnlyList<Keypoint>? Joints { get; init; }
    /// <summary>SPMKD only: skeleton links as index pairs into <see cref="Joints"/>.</summary>
    public IReadOnlyList<int[]>? JointLinks { get; init; }
    /// <summary>SPMKD only: the posture and every class's probability.</summary>
    public Posture? Posture { get; init; }
    /// <summary>Per-keypoint heatmaps (with <c>include=heatmaps</c>).</summary>
    public IReadOnlyList<Map>? Heatmaps { get; init; }
    /// <summary>SPMKD only: the reconstructed pressure map (with <c>include=reconstruction</c>).</summary>
    public Map? Reconstruction { get; init; }
    /// <summary>Server-side timings in milliseconds.</summary>
    public Timings? TimingsMs { get; init; }
    /// <summary>Things the caller should know (e.g. an input of the wrong kind for the model); null when none.</summary>
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>One keypoint.</summary>
/// <param name="Name">Keypoint name from the model manifest.</param>
/// <param name="X">x in the input's pixels, 0 = left edge, pixel centres at integer + 0.5.</param>
/// <param name="Y">y in the input's pixels, 0 = top edge.</param>
/// <param name="XNorm">x / width.</param>
/// <param name="YNorm">y / height.</param>
/// <param name="Confidence">Raw heatmap peak value; null for regression models and mapped joints.</param>
/// <param name="Score">Confidence clamped to [0, 1]; null where confidence is null.</param>
public sealed record Keypoint(string Name, double X, double Y, double XNorm, double YNorm, double? Confidence, double? Score);

/// <summary>A posture classification.</summary>
/// <param name="Label">The most probable class (supine, left_side, right_side, prone for the default model).</param>
/// <param name="Probabilities">Every class with its probability.</param>
public sealed record Posture(string Label, IReadOnlyDictionary<string, double> Probabilities);

/// <summary>One figure of a multi-figure model.</summary>
public sealed record Instance(double Score, IReadOnlyList<Keypoint> Keypoints, IReadOnlyList<int[]> Links);

/// <summary>A 2-D map, as rows (<see cref="Data"/>) or as a base64 16-bit grayscale PNG (<see cref="PngBase64"/>).</summary>
public sealed record Map
{
    /// <summary>Keypoint name for heatmaps; "reconstruction" for reconstructions.</summary>
    public required string Name { get; init; }
    /// <summary>Width in cells.</summary>
    public int Width { get; init; }
    /// <summary>Height in cells.</summary>
    public int Height { get; init; }
    /// <summary>Smallest value.</summary>
    public float Min { get; init; }
    /// <summary>Largest value.</summary>
    public float Max { get; init; }
    /// <summary>Rows of values (map_format=array).</summary>
    public float[][]? Data { get; init; }
    /// <summary>Base64 16-bit grayscale PNG (map_format=png); value = min + pixel / 65535 × (max − min).</summary>
    public string? PngBase64 { get; init; }
}

/// <summary>Stage timings in milliseconds.</summary>
public sealed record Timings(double Preprocess, double Inference, double Postprocess);

/// <summary>The answer to one bed frame: its joints and posture, the events it caused and the bed's state after it.</summary>
public sealed record BedFrameResult
{
    /// <summary>The bed.</summary>
    public required string BedId { get; init; }
    /// <summary>The caller's frame id, if it gave one.</summary>
    public string? FrameId { get; init; }
    /// <summary>The frame's time.</summary>
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>Model that read the frame.</summary>
    public required string Model { get; init; }
    /// <summary>Model version that read the frame.</summary>
    public required string Version { get; init; }
    /// <summary>This frame's posture (the bed's current posture, after the dwell rule, is in <see cref="State"/>).</summary>
    public required Posture Posture { get; init; }
    /// <summary>The joints, smoothed across the bed's frames.</summary>
    public IReadOnlyList<BedJoint> Joints { get; init; } = [];
    /// <summary>Skeleton links as index pairs into <see cref="Joints"/>.</summary>
    public IReadOnlyList<int[]>? JointLinks { get; init; }
    /// <summary>Events this frame caused.</summary>
    public IReadOnlyList<BedEvent> Events { get; init; } = [];
    /// <summary>The bed's state after this frame.</summary>
    public required BedState State { get; init; }
    /// <summary>True when the service answered a repeated <c>frame_id</c> with its stored first answer (header <c>Idempotent-Replayed</c>).</summary>
    [JsonIgnore] public bool Replayed { get; init; }
}

/// <summary>A smoothed joint.</summary>
public sealed record BedJoint(string Name, double X, double Y, double XNorm, double YNorm);

/// <summary>A monitored bed's state.</summary>
public sealed record BedState
{
    /// <summary>The bed.</summary>
    public required string BedId { get; init; }
    /// <summary>Current posture (held for the dwell time); null until one has held.</summary>
    public string? Posture { get; init; }
    /// <summary>When the current posture began.</summary>
    public DateTimeOffset? PostureSince { get; init; }
    /// <summary>Seconds from <see cref="PostureSince"/> to the last frame.</summary>
    public double? TimeInPostureSeconds { get; init; }
    /// <summary>A different posture that has not yet held for the dwell time.</summary>
    public string? PendingPosture { get; init; }
    /// <summary>Since when <see cref="PendingPosture"/> has been seen.</summary>
    public DateTimeOffset? PendingSince { get; init; }
    /// <summary>Time of the last accepted frame.</summary>
    public DateTimeOffset? LastFrameAt { get; init; }
    /// <summary>True once no frame has arrived for longer than the sensor timeout, until the next frame.</summary>
    public bool SensorOffline { get; init; }
    /// <summary>Frames accepted (a repeated frame_id counts once).</summary>
    public long Frames { get; init; }
    /// <summary>The repositioning alert.</summary>
    public required BedAlert Alert { get; init; }
    /// <summary>The repositioning limit in force.</summary>
    public double RepositionLimitMinutes { get; init; }
    /// <summary><c>bed</c> when set for this bed, else <c>default</c>.</summary>
    public required string LimitSource { get; init; }
    /// <summary>When monitoring of this bed started (server time).</summary>
    public DateTimeOffset MonitoringSince { get; init; }
}

/// <summary>The repositioning alert.</summary>
/// <param name="Active">True while the current posture has lasted longer than the limit.</param>
/// <param name="RaisedAt">Time of the frame that raised it.</param>
/// <param name="DueAt">When the posture passed the limit.</param>
public sealed record BedAlert(bool Active, DateTimeOffset? RaisedAt, DateTimeOffset? DueAt);

/// <summary>Event types of a bed (docs/beds.md), plus <see cref="Dropped"/> on a live stream.</summary>
public static class BedEventTypes
{
    /// <summary>A new posture has held for the dwell time.</summary>
    public const string PostureChanged = "posture_changed";
    /// <summary>One posture lasted longer than the repositioning limit.</summary>
    public const string AlertRaised = "alert_raised";
    /// <summary>A held posture change cleared the alert.</summary>
    public const string AlertCleared = "alert_cleared";
    /// <summary>A gap between frames longer than the sensor timeout.</summary>
    public const string SensorGap = "sensor_gap";
    /// <summary>No frame has arrived for longer than the sensor timeout (raised by the service's sensor watch, without a frame).</summary>
    public const string SensorOffline = "sensor_offline";
    /// <summary>A frame arrived from a bed reported offline.</summary>
    public const string SensorOnline = "sensor_online";
    /// <summary>Live stream only: this connection lost pushes because it read too slowly (<see cref="BedEvent.DroppedCount"/>); reconnect with the last event id to fill the gap.</summary>
    public const string Dropped = "dropped";
}

/// <summary>A bed event.</summary>
/// <param name="Id">Increasing id (0 for a <see cref="BedEventTypes.Dropped"/> notice).</param>
/// <param name="BedId">The bed.</param>
/// <param name="Type">posture_changed | alert_raised | alert_cleared | sensor_gap | sensor_offline | sensor_online (| dropped on a live stream).</param>
/// <param name="At">Time of the frame that caused it (for a dropped notice: when the client read it).</param>
/// <param name="Data">Type-specific details (docs/beds.md).</param>
public sealed record BedEvent(long Id, string BedId, string Type, DateTimeOffset At, JsonElement Data)
{
    /// <summary>For a <see cref="BedEventTypes.Dropped"/> notice: the running count of pushes this connection lost; otherwise null.</summary>
    [JsonIgnore] public long? DroppedCount { get; init; }

    /// <summary>True for a <see cref="BedEventTypes.Dropped"/> notice of a live stream.</summary>
    [JsonIgnore] public bool IsDropped => Type == BedEventTypes.Dropped;

    /// <summary><see cref="Data"/> deserialised with the service's JSON conventions (snake_case).</summary>
    public T? DataAs<T>() => Data.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? default : Data.Deserialize<T>(KeypointServiceJson.Options);
}

/// <summary>A page of a bed's events.</summary>
/// <param name="BedId">The bed.</param>
/// <param name="Events">Events in id order.</param>
public sealed record BedEventsPage(string BedId, IReadOnlyList<BedEvent> Events);

/// <summary>An RFC 7807 problem as the service writes it.</summary>
public sealed record ServiceProblem
{
    /// <summary>Problem type URI.</summary>
    public string? Type { get; init; }
    /// <summary>Short summary.</summary>
    public string? Title { get; init; }
    /// <summary>HTTP status.</summary>
    public int? Status { get; init; }
    /// <summary>What went wrong and what the caller can do about it.</summary>
    public string? Detail { get; init; }
    /// <summary>The request path.</summary>
    public string? Instance { get; init; }
    /// <summary>The request's identifier in the service's logs.</summary>
    public string? TraceId { get; init; }
    /// <summary>Every member of the problem document, including extensions; undefined when the body was not JSON.</summary>
    public JsonElement Raw { get; init; }
}

/// <summary>The JSON conventions of the service's API (snake_case).</summary>
public static class KeypointServiceJson
{
    /// <summary>Web defaults with snake_case property names.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
