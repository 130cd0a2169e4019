using System.Data.Common;
using Npgsql;

namespace KeypointService.Api.Beds.Storage;

/// <summary>
/// PostgreSQL through Npgsql, for several API replicas sharing beds: a transaction-scoped advisory
/// lock on the bed id serialises one bed's frames across processes; commits are synchronous (the
/// server default), so an acknowledged frame is on disk.
/// </summary>
public sealed class PostgresDialect(string connectionString) : SqlDialect, IDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    /// <summary>The pool, for what is not a store transaction (the live relay's LISTEN connection and notifications).</summary>
    public NpgsqlDataSource DataSource => _source;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellation) => await _source.OpenConnectionAsync(cancellation);

    public override string LockBedSql => "SELECT pg_advisory_xact_lock(hashtextextended(@bed_id, 7215))";

    public override string Schema => """
        SELECT pg_advisory_lock(7215);
        CREATE TABLE IF NOT EXISTS beds (bed_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS bed_events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, bed_id TEXT NOT NULL, type TEXT NOT NULL,
            at_ms BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS bed_events_bed ON bed_events (bed_id, id);
        CREATE INDEX IF NOT EXISTS bed_events_recorded ON bed_events (recorded_ms);
        CREATE TABLE IF NOT EXISTS bed_frames (bed_id TEXT NOT NULL, frame_id TEXT NOT NULL, recorded_ms BIGINT NOT NULL,
            response TEXT NOT NULL, PRIMARY KEY (bed_id, frame_id));
        CREATE INDEX IF NOT EXISTS bed_frames_recorded ON bed_frames (recorded_ms);
        SELECT pg_advisory_unlock(7215);
        """;

    public void Dispose() => _source.Dispose();
}
