using System.Text.Json.Nodes;

namespace KeypointService.Api.Beds;

/// <summary>Swagger examples of the bed endpoints and types (plugged into Apis/OpenApiExamples).</summary>
public static class BedOpenApiExamples
{
    public static JsonNode? Success(string? operationId) => operationId switch
    {
        "PostBedFrame" => Frame(),
        "ListBeds" => new JsonArray(State()),
        "GetBed" or "PutBed" => State(),
        "GetBedEvents" => new JsonObject { ["bed_id"] = "ward-3.bed-12", ["events"] = new JsonArray(Event(), Alert()) },
        "StreamBedEvents" => JsonValue.Create(
            "event: event\nid: 41\ndata: " + Event().ToJsonString() + "\n\nevent: dropped\ndata: {\"dropped\":3}\n\n"),
        _ => null,
    };

    public static IEnumerable<(string Status, string Description)> ErrorResponses(string? operationId) => operationId switch
    {
        "PostBedFrame" =>
        [
            ("400", "Bad input: no or bad timestamp, bad frame_id or bed id, malformed body (as predict)"),
            ("409", "Frame not newer than the bed's last accepted frame"),
            ("413", "Request body larger than Requests:MaxBodyBytes"),
            ("415", "Unsupported media type"),
            ("503", "The bed model is not loaded, has no posture head, or the service is overloaded"),
        ],
        "GetBed" or "DeleteBed" => [("404", "Unknown bed")],
        "GetBedEvents" or "StreamBedEvents" => [("400", "Bad since, after_id or limit"), ("404", "Unknown bed")],
        "PutBed" => [("400", "Bad settings body or bed id"), ("415", "Not application/json")],
        _ => [],
    };

    public static JsonNode? ForType(Type type) =>
        type == typeof(BedFrameResponse) ? Frame()
        : type == typeof(BedStateDto) ? State()
        : type == typeof(BedAlertDto) ? State()["alert"]!.DeepClone()
        : type == typeof(BedJointDto) ? Joint()
        : type == typeof(BedEventDto) ? Event()
        : type == typeof(BedEventsResponse) ? Success("GetBedEvents")
        : type == typeof(System.Net.ServerSentEvents.SseItem<string>)
            ? new JsonObject { ["event_type"] = "event", ["event_id"] = "41", ["data"] = Event().ToJsonString() }
        : type == typeof(BedSettingsRequest) ? new JsonObject { ["reposition_limit_minutes"] = 90 }
        : null;

    private static JsonObject Joint() => new() { ["name"] = "thorax", ["x"] = 41.8, ["y"] = 52.3, ["x_norm"] = 0.4976, ["y_norm"] = 0.2724 };

    private static JsonObject Event() => new()
    {
        ["id"] = 41, ["bed_id"] = "ward-3.bed-12", ["type"] = "posture_changed", ["at"] = "2026-12-01T22:15:30.000Z",
        ["data"] = new JsonObject { ["from"] = "supine", ["to"] = "left_side", ["since"] = "2026-12-01T22:15:00.000Z",
            ["previous_since"] = "2026-12-01T20:02:00.000Z", ["previous_seconds"] = 7980.0 },
    };

    private static JsonObject Alert() => new()
    {
        ["id"] = 42, ["bed_id"] = "ward-3.bed-12", ["type"] = "alert_raised", ["at"] = "2026-12-02T00:15:01.000Z",
        ["data"] = new JsonObject { ["posture"] = "left_side", ["posture_since"] = "2026-12-01T22:15:00.000Z", ["limit_minutes"] = 120,
            ["due_at"] = "2026-12-02T00:15:00.000Z", ["time_in_posture_seconds"] = 7201.0 },
    };

    private static JsonObject State() => new()
    {
        ["bed_id"] = "ward-3.bed-12", ["posture"] = "left_side", ["posture_since"] = "2026-12-01T22:15:00.000Z",
        ["time_in_posture_seconds"] = 1800.0, ["pending_posture"] = null, ["pending_since"] = null,
        ["last_frame_at"] = "2026-12-01T22:45:00.000Z", ["frames"] = 9400,
        ["alert"] = new JsonObject { ["active"] = false, ["raised_at"] = null, ["due_at"] = null },
        ["reposition_limit_minutes"] = 120, ["limit_source"] = "default", ["monitoring_since"] = "2026-12-01T20:00:00.000Z",
    };

    private static JsonObject Frame() => new()
    {
        ["bed_id"] = "ward-3.bed-12", ["frame_id"] = "f-000123", ["timestamp"] = "2026-12-01T22:45:00.000Z", ["model"] = "spmkd", ["version"] = "2",
        ["posture"] = new JsonObject { ["label"] = "left_side", ["probabilities"] = new JsonObject { ["supine"] = 0.01, ["left_side"] = 0.97, ["right_side"] = 0.01, ["prone"] = 0.01 } },
        ["joints"] = new JsonArray(Joint()), ["joint_links"] = new JsonArray(new JsonArray(12, 13)), ["events"] = new JsonArray(), ["state"] = State(),
    };
}
