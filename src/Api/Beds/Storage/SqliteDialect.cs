using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace KeypointService.Api.Beds.Storage;

/// <summary>
/// SQLite in a file under the data directory: WAL journal with synchronous=FULL, so a committed
/// transaction survives the process being killed (and a power loss). Writers of this process take
/// turns through <see cref="WriterGate"/>; BEGIN is IMMEDIATE (Microsoft.Data.Sqlite's default).
/// </summary>
public sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;

    public SqliteDialect(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, "beds.db");
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public string Path { get; }

    public override SemaphoreSlim WriterGate { get; } = new(1, 1);

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellation)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellation);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        await pragma.ExecuteNonQueryAsync(cancellation);
        return connection;
    }

    public override string? LockBedSql => null;

    public override string Schema => """
        CREATE TABLE IF NOT EXISTS beds (bed_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS bed_events (id INTEGER PRIMARY KEY AUTOINCREMENT, bed_id TEXT NOT NULL, type TEXT NOT NULL,
            at_ms INTEGER NOT NULL, recorded_ms INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS bed_events_bed ON bed_events (bed_id, id);
        CREATE INDEX IF NOT EXISTS bed_events_recorded ON bed_events (recorded_ms);
        CREATE TABLE IF NOT EXISTS bed_frames (bed_id TEXT NOT NULL, frame_id TEXT NOT NULL, recorded_ms INTEGER NOT NULL,
            response TEXT NOT NULL, PRIMARY KEY (bed_id, frame_id));
        CREATE INDEX IF NOT EXISTS bed_frames_recorded ON bed_frames (recorded_ms);
        """;
}
