namespace KeypointService.Api.Beds.Monitoring;

/// <summary>
/// Everything the service remembers about one bed, stored as one JSON document per bed. Times are
/// Unix milliseconds: frame times from the caller's timestamps, <see cref="CreatedMs"/> from the server clock.
/// </summary>
public sealed record BedState
{
    public required string BedId { get; init; }
    /// <summary>Server time monitoring started.</summary>
    public required long CreatedMs { get; init; }
    /// <summary>This bed's repositioning limit; null = Beds:RepositionLimitMinutes.</summary>
    public double? LimitMinutes { get; init; }
    /// <summary>The current (held) posture; null until a posture has held for the dwell time.</summary>
    public string? Posture { get; init; }
    /// <summary>When the current posture began (the first frame of its hold).</summary>
    public long? PostureSinceMs { get; init; }
    /// <summary>A different posture seen but not yet held for the dwell time.</summary>
    public string? Candidate { get; init; }
    public long? CandidateSinceMs { get; init; }
    public long? LastFrameMs { get; init; }
    public string? LastFrameId { get; init; }
    /// <summary>Server time the last accepted frame arrived (the sensor watch measures silence by it).</summary>
    public long? LastReceivedMs { get; init; }
    /// <summary>Server time the sensor watch found the bed silent for longer than the sensor timeout; null while frames arrive.</summary>
    public long? OfflineSinceMs { get; init; }
    public long Frames { get; init; }
    public bool AlertActive { get; init; }
    public long? AlertRaisedMs { get; init; }
    /// <summary>One Euro filter state of the joints (null: restart the filter on the next frame).</summary>
    public JointFilterState? Filter { get; init; }
}

/// <summary>One Euro filter memory: smoothed values and derivatives, x/y interleaved, at the input size it was built for.</summary>
public sealed record JointFilterState(int Width, int Height, double[] Values, double[] Derivatives);

/// <summary>A smoothed joint in the frame's cells and normalised.</summary>
public sealed record SmoothedJoint(string Name, double X, double Y, double XNorm, double YNorm);

/// <summary>An event not yet stored (the store gives it its id).</summary>
public sealed record EventDraft(string Type, long AtMs, IReadOnlyDictionary<string, object?> Data);

/// <summary>A stored event; ids increase in the order events were stored (across beds).</summary>
public sealed record StoredEvent(long Id, string BedId, string Type, long AtMs, string DataJson);

public static class BedEventTypes
{
    public const string PostureChanged = "posture_changed";
    public const string AlertRaised = "alert_raised";
    public const string AlertCleared = "alert_cleared";
    public const string SensorGap = "sensor_gap";
    public const string SensorOffline = "sensor_offline";
    public const string SensorOnline = "sensor_online";
}
