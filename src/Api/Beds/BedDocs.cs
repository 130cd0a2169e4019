namespace KeypointService.Api.Beds;

/// <summary>Swagger descriptions of the bed endpoints (docs/beds.md has the whole story).</summary>
public static class BedDocs
{
    public const string PostFrame =
        "Body: any input `POST /v1/models/spmkd/predict` accepts (CSV, .npy, raw float32 with `width`/`height`, JSON, multipart). " +
        "`timestamp` (RFC 3339 with a time zone, or Unix milliseconds) as a query parameter or, for JSON bodies, a field beside `data`; " +
        "optional `frame_id` likewise. The first frame of an unknown bed starts monitoring it.\n\n" +
        "Rules (configurable under `Beds`): a new posture counts once it has held for `DwellSeconds` (30); a repositioning alert when the " +
        "current posture has lasted longer than the bed's limit (`RepositionLimitMinutes`, 120, per bed with PUT), cleared by a held change, and raised by " +
        "the bed watch when it comes due between frames; " +
        "joints smoothed with a One Euro filter; a gap over `SensorTimeoutSeconds` (60) is a `sensor_gap` event; a bed that sends nothing for that long is reported " +
        "`sensor_offline` by the bed watch (every `SensorWatchSeconds`, 10) and `sensor_online` by its next frame. " +
        "State, events and the answer are stored before the response.\n\n" +
        "400: bad input or timestamp; 409: frame not newer than the bed's last accepted frame; 413: body over the limit; " +
        "a repeated `frame_id` gets its first answer again (header `Idempotent-Replayed: true`) and counts once.";

    public const string PutBed = "Body: `{\"reposition_limit_minutes\": 90}`; `null` returns the bed to `Beds:RepositionLimitMinutes`. " +
        "The alert is judged again at once against the bed's last frame: a raised limit clears an alert it no longer warrants " +
        "(`alert_cleared`, reason `limit_changed`), a lowered one raises it if the posture has already been held longer.";

    public const string Events =
        "Events in id order: `posture_changed`, `alert_raised`, `alert_cleared`, `sensor_gap`, `sensor_offline`, `sensor_online`. `since` (RFC 3339 or Unix ms) keeps events " +
        "at or after a time, `after_id` those after an id (page with the last id you saw), `limit` caps the page (default 100).";

    public const string Stream =
        "`text/event-stream`: first the stored events after `Last-Event-ID` (or `after_id`), then live ones; each SSE item has `event:` " +
        "(`event` or `dropped`), `id:` (the event id) and `data:` (the event as JSON). A slow consumer loses the oldest pushes of its bounded " +
        "queue (`Beds:LiveQueueCapacity`); a `dropped` item `{\"dropped\": n}` then reports the running count. Reconnect with Last-Event-ID to catch up from storage.";

    public const string WebSocket =
        "Upgrade to a WebSocket. Send JSON text messages, each one frame: `{\"timestamp\": ..., \"frame_id\": ..., \"data\": [[...]]}` " +
        "(or `data_b64`/`width`/`height`, or `image`). Received: `{\"type\": \"frame\"|\"event\"|\"error\", \"dropped\": n, \"data\": ...}` — " +
        "frame results of this bed (from any sender), its events, and errors for refused frames (409, 503). `dropped` counts pushes this " +
        "connection lost to its bounded queue. A message that is not a frame (binary, not JSON, no map, bad timestamp) closes the socket with " +
        "status 1003/1007/1009 and the reason.";
}
