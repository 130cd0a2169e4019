using System.Data.Common;
using System.Text.Json;
using KeypointService.Api.Beds.Monitoring;

namespace KeypointService.Api.Beds.Storage;

/// <summary>What differs between the SQL databases: connections, DDL and the per-bed lock.</summary>
public abstract class SqlDialect
{
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellation);
    public abstract string Schema { get; }
    /// <summary>SQL taking a lock on @bed_id for the rest of the transaction, or null where the transaction itself serialises writers.</summary>
    public abstract string? LockBedSql { get; }
    /// <summary>Serialises this process's writers (SQLite: one writer at a time, without busy retries).</summary>
    public virtual SemaphoreSlim? WriterGate => null;
}

/// <summary>The store on ADO.NET; the same SQL runs on SQLite (≥ 3.35) and PostgreSQL.</summary>
public sealed class SqlBedStore(SqlDialect dialect, TimeProvider clock) : IBedStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task InitializeAsync(CancellationToken cancellation)
    {
        await using var connection = await dialect.OpenAsync(cancellation);
        await ExecuteAsync(connection, null, dialect.Schema, cancellation);
    }

    public Task<FrameCommit> CommitFrameAsync(string bedId, string? frameId, Func<BedState?, FrameStep> step,
        Func<FrameAccepted, IReadOnlyList<StoredEvent>, string> respond, CancellationToken cancellation) =>
        InBedTransactionAsync<FrameCommit>(bedId, async (connection, tx) =>
        {
            if (frameId is not null &&
                await ScalarAsync(connection, tx, "SELECT response FROM bed_frames WHERE bed_id = @bed_id AND frame_id = @frame_id",
                    cancellation, ("bed_id", bedId), ("frame_id", frameId)) is string stored)
                return new FrameRepeated(stored);
            var current = await ReadBedAsync(connection, tx, bedId, cancellation);
            switch (step(current))
            {
                case FrameRejected rejected:
                    return new FrameRefused(rejected.Detail);
                case FrameAccepted accepted:
                    await WriteBedAsync(connection, tx, accepted.Next, cancellation);
                    var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                    var events = await InsertEventsAsync(connection, tx, bedId, accepted.Events, now, cancellation);
                    var response = respond(accepted, events);
                    if (frameId is not null)
                        await ExecuteAsync(connection, tx,
                            "INSERT INTO bed_frames (bed_id, frame_id, recorded_ms, response) VALUES (@bed_id, @frame_id, @recorded_ms, @response)",
                            cancellation, ("bed_id", bedId), ("frame_id", frameId), ("recorded_ms", now), ("response", response));
                    return new FrameCommitted(accepted.Next, events, response);
                default:
                    throw new InvalidOperationException("unknown frame step");
            }
        }, commitIf: r => r is FrameCommitted, cancellation);

    public async Task<BedState?> GetAsync(string bedId, CancellationToken cancellation)
    {
        await using var connection = await dialect.OpenAsync(cancellation);
        return await ReadBedAsync(connection, null, bedId, cancellation);
    }

    public async Task<IReadOnlyList<BedState>> ListAsync(CancellationToken cancellation)
    {
        await using var connection = await dialect.OpenAsync(cancellation);
        await using var command = Command(connection, null, "SELECT state FROM beds ORDER BY bed_id");
        var beds = new List<BedState>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) beds.Add(Deserialize(reader.GetString(0)));
        return beds;
    }

    public Task<BedUpdated?> UpdateAsync(string bedId, Func<BedState?, BedChange?> update, CancellationToken cancellation) =>
        InBedTransactionAsync<BedUpdated?>(bedId, async (connection, tx) =>
        {
            if (update(await ReadBedAsync(connection, tx, bedId, cancellation)) is not { } change) return null;
            await WriteBedAsync(connection, tx, change.Next, cancellation);
            var events = await InsertEventsAsync(connection, tx, bedId, change.Events, clock.GetUtcNow().ToUnixTimeMilliseconds(), cancellation);
            return new BedUpdated(change.Next, events);
        }, commitIf: r => r is not null, cancellation);

    private static async Task<IReadOnlyList<StoredEvent>> InsertEventsAsync(DbConnection connection, DbTransaction tx, string bedId,
        IReadOnlyList<EventDraft> drafts, long recordedMs, CancellationToken cancellation)
    {
        var events = new List<StoredEvent>(drafts.Count);
        foreach (var e in drafts)
        {
            var data = JsonSerializer.Serialize(e.Data, Json);
            var id = Convert.ToInt64(await ScalarAsync(connection, tx,
                "INSERT INTO bed_events (bed_id, type, at_ms, recorded_ms, data) VALUES (@bed_id, @type, @at_ms, @recorded_ms, @data) RETURNING id",
                cancellation, ("bed_id", bedId), ("type", e.Type), ("at_ms", e.AtMs), ("recorded_ms", recordedMs), ("data", data)));
            events.Add(new StoredEvent(id, bedId, e.Type, e.AtMs, data));
        }
        return events;
    }

    public Task<bool> DeleteAsync(string bedId, CancellationToken cancellation) =>
        InBedTransactionAsync(bedId, async (connection, tx) =>
        {
            var deleted = await ExecuteAsync(connection, tx, "DELETE FROM beds WHERE bed_id = @bed_id", cancellation, ("bed_id", bedId));
            await ExecuteAsync(connection, tx, "DELETE FROM bed_events WHERE bed_id = @bed_id", cancellation, ("bed_id", bedId));
            await ExecuteAsync(connection, tx, "DELETE FROM bed_frames WHERE bed_id = @bed_id", cancellation, ("bed_id", bedId));
            return deleted > 0;
        }, commitIf: _ => true, cancellation);

    public async Task<IReadOnlyList<StoredEvent>> EventsAsync(string bedId, long afterId, long? sinceMs, int limit, CancellationToken cancellation)
    {
        await using var connection = await dialect.OpenAsync(cancellation);
        await using var command = Command(connection, null,
            "SELECT id, type, at_ms, data FROM bed_events WHERE bed_id = @bed_id AND id > @after AND at_ms >= @since ORDER BY id LIMIT @limit",
            ("bed_id", bedId), ("after", afterId), ("since", sinceMs ?? long.MinValue), ("limit", limit));
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
            events.Add(new StoredEvent(reader.GetInt64(0), bedId, reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        return events;
    }

    public async Task<int> PruneAsync(long beforeMs, CancellationToken cancellation)
    {
        var gate = dialect.WriterGate;
        if (gate is not null) await gate.WaitAsync(cancellation);
        try
        {
            await using var connection = await dialect.OpenAsync(cancellation);
            return await ExecuteAsync(connection, null, "DELETE FROM bed_events WHERE recorded_ms < @before", cancellation, ("before", beforeMs))
                 + await ExecuteAsync(connection, null, "DELETE FROM bed_frames WHERE recorded_ms < @before", cancellation, ("before", beforeMs));
        }
        finally { gate?.Release(); }
    }

    private async Task<T> InBedTransactionAsync<T>(string bedId, Func<DbConnection, DbTransaction, Task<T>> work, Func<T, bool> commitIf,
        CancellationToken cancellation)
    {
        var gate = dialect.WriterGate;
        if (gate is not null) await gate.WaitAsync(cancellation);
        try
        {
            await using var connection = await dialect.OpenAsync(cancellation);
            await using var tx = await connection.BeginTransactionAsync(cancellation);
            if (dialect.LockBedSql is { } lockSql) await ExecuteAsync(connection, tx, lockSql, cancellation, ("bed_id", bedId));
            var result = await work(connection, tx);
            // Commit is not cancellable: once the work is done, the write lands or fails, never half-way.
            if (commitIf(result)) await tx.CommitAsync(CancellationToken.None);
            else await tx.RollbackAsync(CancellationToken.None);
            return result;
        }
        finally { gate?.Release(); }
    }

    private static async Task<BedState?> ReadBedAsync(DbConnection connection, DbTransaction? tx, string bedId, CancellationToken cancellation) =>
        await ScalarAsync(connection, tx, "SELECT state FROM beds WHERE bed_id = @bed_id", cancellation, ("bed_id", bedId)) is string json
            ? Deserialize(json) : null;

    private async Task WriteBedAsync(DbConnection connection, DbTransaction tx, BedState bed, CancellationToken cancellation) =>
        await ExecuteAsync(connection, tx,
            "INSERT INTO beds (bed_id, state, updated_ms) VALUES (@bed_id, @state, @updated_ms) " +
            "ON CONFLICT (bed_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
            cancellation, ("bed_id", bed.BedId), ("state", JsonSerializer.Serialize(bed, Json)), ("updated_ms", clock.GetUtcNow().ToUnixTimeMilliseconds()));

    private static BedState Deserialize(string json) =>
        JsonSerializer.Deserialize<BedState>(json, Json) ?? throw new InvalidDataException("a stored bed state is null");

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellation,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellation);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellation,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellation);
        return value is DBNull ? null : value;
    }
}
