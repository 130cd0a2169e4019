using System.Text.Json;
using System.Text.Json.Serialization;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Contracts;

namespace KeypointService.Api.Beds;

/// <summary>The answer to one frame: its joints and posture, the events it caused, and the bed's state after it.</summary>
public sealed record BedFrameResponse
{
    public required string BedId { get; init; }
    /// <summary>The caller's frame id, if it gave one (a repeated id gets this same answer again).</summary>
    public string? FrameId { get; init; }
    /// <summary>The frame's time (RFC 3339, UTC).</summary>
    public required string Timestamp { get; init; }
    /// <summary>Model and version that read the frame.</summary>
    public required string Model { get; init; }
    public required string Version { get; init; }
    /// <summary>This frame's posture (before the dwell rule: the bed's current posture is in <c>state</c>).</summary>
    public required PostureDto Posture { get; init; }
    /// <summary>The 14 joints, smoothed across the bed's frames with a One Euro filter, in the frame's cells and normalised.</summary>
    public required IReadOnlyList<BedJointDto> Joints { get; init; }
    /// <summary>Skeleton links as index pairs into <c>joints</c>.</summary>
    public IReadOnlyList<int[]>? JointLinks { get; init; }
    /// <summary>Events this frame caused (posture_changed, alert_raised, alert_cleared, sensor_gap, sensor_online).</summary>
    public required IReadOnlyList<BedEventDto> Events { get; init; }
    public required BedStateDto State { get; init; }
}

/// <summary>A smoothed joint.</summary>
public sealed record BedJointDto(string Name, double X, double Y, double XNorm, double YNorm);

/// <summary>A monitored bed.</summary>
public sealed record BedStateDto
{
    public required string BedId { get; init; }
    /// <summary>Current posture (held for the dwell time); null until one has held.</summary>
    public string? Posture { get; init; }
    /// <summary>When the current posture began.</summary>
    public string? PostureSince { get; init; }
    /// <summary>Seconds from <c>posture_since</c> to the last frame.</summary>
    public double? TimeInPostureSeconds { get; init; }
    /// <summary>A different posture seen since <c>pending_since</c> that has not yet held for the dwell time.</summary>
    public string? PendingPosture { get; init; }
    public string? PendingSince { get; init; }
    /// <summary>Time of the last accepted frame.</summary>
    public string? LastFrameAt { get; init; }
    /// <summary>True once no frame has arrived for longer than the sensor timeout (server time), until the next frame.</summary>
    public bool SensorOffline { get; init; }
    /// <summary>Frames accepted (a repeated frame_id counts once).</summary>
    public required long Frames { get; init; }
    public required BedAlertDto Alert { get; init; }
    /// <summary>The repositioning limit in force for this bed.</summary>
    public required double RepositionLimitMinutes { get; init; }
    /// <summary><c>bed</c> when set for this bed (PUT /v1/beds/{bedId}), else <c>default</c> (Beds:RepositionLimitMinutes).</summary>
    public required string LimitSource { get; init; }
    /// <summary>When monitoring of this bed started (server time).</summary>
    public required string MonitoringSince { get; init; }
}

/// <summary>The repositioning alert.</summary>
/// <param name="Active">True while the current posture has lasted longer than the limit and no held change has followed.</param>
/// <param name="RaisedAt">Time of the frame that raised it.</param>
/// <param name="DueAt">When the posture passed the limit (posture_since + limit).</param>
public sealed record BedAlertDto(bool Active, string? RaisedAt, string? DueAt);

/// <summary>A stored event.</summary>
/// <param name="Id">Increasing id: resume with <c>after_id</c> or SSE's Last-Event-ID.</param>
/// <param name="BedId">The bed.</param>
/// <param name="Type">posture_changed | alert_raised | alert_cleared | sensor_gap | sensor_offline | sensor_online.</param>
/// <param name="At">Time of the frame that caused it (the bed's own clock; for the bed watch's sensor_offline and alert_raised its last frame plus the server time since).</param>
/// <param name="Data">Type-specific details (docs/beds.md).</param>
public sealed record BedEventDto(long Id, string BedId, string Type, string At, JsonElement Data);

/// <summary>PUT /v1/beds/{bedId}: per-bed settings.</summary>
/// <param name="RepositionLimitMinutes">This bed's repositioning limit in minutes; null returns it to the default.</param>
public sealed record BedSettingsRequest(double? RepositionLimitMinutes);

/// <summary>A page of events.</summary>
public sealed record BedEventsResponse(string BedId, IReadOnlyList<BedEventDto> Events);

/// <summary>Maps stored state and events to the wire.</summary>
public static class BedMapper
{
    public static BedStateDto ToDto(BedState bed, BedOptions options)
    {
        var limit = bed.LimitMinutes ?? options.RepositionLimitMinutes;
        return new BedStateDto
        {
            BedId = bed.BedId,
            Posture = bed.Posture,
            PostureSince = Times.Format(bed.PostureSinceMs),
            TimeInPostureSeconds = bed.PostureSinceMs is { } since && bed.LastFrameMs is { } last ? (last - since) / 1000.0 : null,
            PendingPosture = bed.Candidate,
            PendingSince = Times.Format(bed.CandidateSinceMs),
            LastFrameAt = Times.Format(bed.LastFrameMs),
            SensorOffline = bed.OfflineSinceMs is not null,
            Frames = bed.Frames,
            Alert = new BedAlertDto(bed.AlertActive, Times.Format(bed.AlertRaisedMs),
                bed.AlertActive && bed.PostureSinceMs is { } s ? Times.Format(s + (long)(limit * 60_000)) : null),
            RepositionLimitMinutes = limit,
            LimitSource = bed.LimitMinutes is null ? "default" : "bed",
            MonitoringSince = Times.Format(bed.CreatedMs),
        };
    }

    public static BedEventDto ToDto(StoredEvent e)
    {
        using var document = JsonDocument.Parse(e.DataJson);
        return new BedEventDto(e.Id, e.BedId, e.Type, Times.Format(e.AtMs), document.RootElement.Clone());
    }
}

/// <summary>Serialisation of stored responses with the API's own JSON settings (snake_case).</summary>
public static class BedJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
