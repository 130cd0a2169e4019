namespace KeypointService.Api.Beds;

/// <summary>Configuration section "Beds": per-bed monitoring (docs/beds.md).</summary>
public sealed class BedOptions
{
    public const string Section = "Beds";

    /// <summary>The model that reads the frames; it must have a posture head (default: spmkd).</summary>
    public string Model { get; set; } = "spmkd";
    /// <summary><c>sqlite</c> (default, a file under <see cref="DataPath"/>) or <c>postgres</c>.</summary>
    public string Store { get; set; } = "sqlite";
    /// <summary>SQLite: the data directory (relative paths are relative to the content root).</summary>
    public string DataPath { get; set; } = "../../data/beds";
    /// <summary>PostgreSQL: an Npgsql connection string.</summary>
    public string? PostgresConnectionString { get; set; }
    /// <summary>A new posture counts once it has held this long.</summary>
    public double DwellSeconds { get; set; } = 30;
    /// <summary>Default repositioning limit: an alert when one posture lasts longer (per bed overridable).</summary>
    public double RepositionLimitMinutes { get; set; } = 120;
    /// <summary>A gap between frames longer than this is a sensor_gap event; a bed silent this long (server time) is reported sensor_offline.</summary>
    public double SensorTimeoutSeconds { get; set; } = 60;
    /// <summary>How often the bed watch looks for beds whose frames have stopped and alerts come due between frames; 0 turns it off (alerts then wait for the next frame).</summary>
    public double SensorWatchSeconds { get; set; } = 10;
    /// <summary>Events (and remembered frame ids) older than this are deleted; 0 keeps them.</summary>
    public double EventRetentionDays { get; set; } = 30;
    /// <summary>How often retention runs.</summary>
    public double RetentionIntervalMinutes { get; set; } = 60;
    /// <summary>One Euro filter on the joints: minimum cutoff (Hz).</summary>
    public double SmoothingMinCutoff { get; set; } = 0.5;
    /// <summary>One Euro filter: speed coefficient (per cell/s).</summary>
    public double SmoothingBeta { get; set; } = 0.05;
    /// <summary>One Euro filter: cutoff of the derivative (Hz).</summary>
    public double SmoothingDerivativeCutoff { get; set; } = 1.0;
    /// <summary>Outgoing pushes queued per live connection (SSE, WebSocket); a slow consumer loses the oldest.</summary>
    public int LiveQueueCapacity { get; set; } = 64;

    public TimeSpan Dwell => TimeSpan.FromSeconds(DwellSeconds);
    public TimeSpan SensorTimeout => TimeSpan.FromSeconds(SensorTimeoutSeconds);

    /// <summary>Start-up check: a bad value stops the service with this message.</summary>
    public string? Problem() =>
        DwellSeconds < 0 ? "Beds:DwellSeconds must be ≥ 0"
        : RepositionLimitMinutes <= 0 ? "Beds:RepositionLimitMinutes must be > 0"
        : SensorTimeoutSeconds <= 0 ? "Beds:SensorTimeoutSeconds must be > 0"
        : SensorWatchSeconds < 0 ? "Beds:SensorWatchSeconds must be ≥ 0 (0: off)"
        : EventRetentionDays < 0 ? "Beds:EventRetentionDays must be ≥ 0"
        : SmoothingMinCutoff <= 0 || SmoothingDerivativeCutoff <= 0 || SmoothingBeta < 0 ? "Beds:Smoothing* must be positive (Beta ≥ 0)"
        : LiveQueueCapacity < 1 ? "Beds:LiveQueueCapacity must be ≥ 1"
        : Store.ToLowerInvariant() is not ("sqlite" or "postgres") ? $"Beds:Store must be sqlite or postgres, got '{Store}'"
        : Store.Equals("postgres", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(PostgresConnectionString)
            ? "Beds:Store is postgres but Beds:PostgresConnectionString is empty"
        : null;
}
