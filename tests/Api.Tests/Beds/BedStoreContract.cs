using KeypointService.Api.Beds;
using KeypointService.Api.Beds.Monitoring;
using KeypointService.Api.Beds.Storage;
using KeypointService.Models.Inference;

namespace KeypointService.Api.Tests.Beds;

/// <summary>What every bed store must do; run on SQLite and on a real PostgreSQL server.</summary>
public abstract class BedStoreContract
{
    protected abstract Task<IBedStore> CreateStoreAsync();

    private static readonly BedOptions Options = new() { DwellSeconds = 0, SensorTimeoutSeconds = 60 };
    private static string NewBed() => $"bed-{Guid.NewGuid():N}";

    private static FrameObservation Frame(long ms, string posture = "supine", string? frameId = null) =>
        new(ms, frameId, posture, [new KeypointResult("thorax", 10, 20, 0.1, 0.1, null)], 84, 192);

    private static Task<FrameCommit> Commit(IBedStore store, string bed, FrameObservation frame) =>
        store.CommitFrameAsync(bed, frame.FrameId, current => BedMonitor.Apply(current, bed, frame, Options, 1),
            (accepted, events) => $"{{\"frames\":{accepted.Next.Frames},\"events\":[{string.Join(",", events.Select(e => e.Id))}]}}", CancellationToken.None);

    [Fact]
    public async Task A_committed_frame_stores_state_events_and_its_answer()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        var committed = Assert.IsType<FrameCommitted>(await Commit(store, bed, Frame(1000, frameId: "f1")));
        var change = Assert.Single(committed.Events);
        Assert.Equal(BedEventTypes.PostureChanged, change.Type);
        var stored = await store.GetAsync(bed, CancellationToken.None);
        Assert.Equal(("supine", 1000L, 1L), (stored!.Posture, stored.LastFrameMs!.Value, stored.Frames));
        var events = await store.EventsAsync(bed, 0, null, 100, CancellationToken.None);
        Assert.Equal(change, Assert.Single(events));
        Assert.Contains(bed, (await store.ListAsync(CancellationToken.None)).Select(b => b.BedId));
    }

    [Fact]
    public async Task A_repeated_frame_id_returns_the_stored_answer_and_writes_nothing()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        var first = Assert.IsType<FrameCommitted>(await Commit(store, bed, Frame(1000, frameId: "f1")));
        var again = Assert.IsType<FrameRepeated>(await Commit(store, bed, Frame(5000, "prone", frameId: "f1")));
        Assert.Equal(first.ResponseJson, again.ResponseJson);
        Assert.Equal(1, (await store.GetAsync(bed, CancellationToken.None))!.Frames);
    }

    [Fact]
    public async Task An_out_of_order_frame_is_refused_and_changes_nothing()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        await Commit(store, bed, Frame(2000));
        Assert.IsType<FrameRefused>(await Commit(store, bed, Frame(1000, "prone", frameId: "late")));
        var stored = await store.GetAsync(bed, CancellationToken.None);
        Assert.Equal((1L, "supine"), (stored!.Frames, stored.Posture));
        // the refused frame id was not remembered: it is refused again, not answered
        Assert.IsType<FrameRefused>(await Commit(store, bed, Frame(1000, "prone", frameId: "late")));
    }

    [Fact]
    public async Task Events_page_by_id_and_filter_by_time()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        await Commit(store, bed, Frame(1_000));
        await Commit(store, bed, Frame(100_000, "prone")); // gap + change
        await Commit(store, bed, Frame(101_000, "supine"));
        var all = await store.EventsAsync(bed, 0, null, 100, CancellationToken.None);
        Assert.Equal([BedEventTypes.PostureChanged, BedEventTypes.SensorGap, BedEventTypes.PostureChanged, BedEventTypes.PostureChanged],
            all.Select(e => e.Type));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Id < p.Second.Id));
        Assert.Equal(all.Skip(2), await store.EventsAsync(bed, all[1].Id, null, 100, CancellationToken.None));
        Assert.Equal(all.Skip(1).Take(2), await store.EventsAsync(bed, 0, 100_000, 2, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_removes_the_bed_its_events_and_its_frame_ids()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        await Commit(store, bed, Frame(1000, frameId: "f1"));
        Assert.True(await store.DeleteAsync(bed, CancellationToken.None));
        Assert.Null(await store.GetAsync(bed, CancellationToken.None));
        Assert.Empty(await store.EventsAsync(bed, 0, null, 100, CancellationToken.None));
        Assert.False(await store.DeleteAsync(bed, CancellationToken.None));
        Assert.IsType<FrameCommitted>(await Commit(store, bed, Frame(500, frameId: "f1"))); // a new bed from scratch
    }

    [Fact]
    public async Task Update_creates_or_changes_settings_under_the_lock()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        var created = await store.UpdateAsync(bed, b => new BedChange((b ?? new BedState { BedId = bed, CreatedMs = 7 }) with { LimitMinutes = 90 }, []),
            CancellationToken.None);
        Assert.Equal(90, created!.Bed.LimitMinutes);
        Assert.Empty(created.Events);
        Assert.Null(await store.UpdateAsync(bed, _ => null, CancellationToken.None)); // no change: nothing written
        Assert.Null(await store.UpdateAsync(NewBed(), _ => null, CancellationToken.None));
        Assert.Equal(0, (await store.GetAsync(bed, CancellationToken.None))!.Frames);
        await Commit(store, bed, Frame(1000));
        var stored = await store.GetAsync(bed, CancellationToken.None);
        Assert.Equal((90.0, 7L, 1L), (stored!.LimitMinutes!.Value, stored.CreatedMs, stored.Frames));
    }

    [Fact]
    public async Task An_update_stores_the_events_it_causes_with_the_new_state()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        await Commit(store, bed, Frame(1000));
        var before = await store.EventsAsync(bed, 0, null, 100, CancellationToken.None);
        var draft = new EventDraft(BedEventTypes.AlertCleared, 1000, new Dictionary<string, object?> { ["reason"] = "limit_changed" });
        var updated = await store.UpdateAsync(bed, b => new BedChange(b! with { LimitMinutes = 30 }, [draft]), CancellationToken.None);
        var stored = Assert.Single(updated!.Events);
        Assert.True(stored.Id > before.Select(e => e.Id).DefaultIfEmpty(0).Max());
        Assert.Equal((BedEventTypes.AlertCleared, 1000L), (stored.Type, stored.AtMs));
        Assert.Contains("limit_changed", stored.DataJson);
        Assert.Equal(stored, (await store.EventsAsync(bed, 0, null, 100, CancellationToken.None)).Last());
        Assert.Equal(30, (await store.GetAsync(bed, CancellationToken.None))!.LimitMinutes);
    }

    [Fact]
    public async Task Concurrent_frames_of_one_bed_are_serialised()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        var results = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => Commit(store, bed, Frame(i * 1000L, frameId: $"f{i}"))));
        var accepted = results.Count(r => r is FrameCommitted);
        Assert.Equal(accepted, (await store.GetAsync(bed, CancellationToken.None))!.Frames);
        Assert.Equal(20, accepted + results.Count(r => r is FrameRefused));
    }

    [Fact]
    public async Task Prune_removes_what_was_stored_before_the_cut()
    {
        var store = await CreateStoreAsync();
        var bed = NewBed();
        await Commit(store, bed, Frame(1000, frameId: "f1"));
        Assert.True(await store.PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(), CancellationToken.None) >= 2);
        Assert.Empty(await store.EventsAsync(bed, 0, null, 100, CancellationToken.None));
        Assert.NotNull(await store.GetAsync(bed, CancellationToken.None)); // the state itself stays
    }
}

public sealed class SqliteBedStoreTests : BedStoreContract, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kps-beds-").FullName;

    protected override async Task<IBedStore> CreateStoreAsync()
    {
        var store = new SqlBedStore(new SqliteDialect(_dir), TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task The_data_survives_a_new_store_over_the_same_directory()
    {
        var first = await CreateStoreAsync();
        await first.UpdateAsync("bed-a", b => new BedChange(new BedState { BedId = "bed-a", CreatedMs = 1, LimitMinutes = 30 }, []), CancellationToken.None);
        var second = await CreateStoreAsync();
        Assert.Equal(30, (await second.GetAsync("bed-a", CancellationToken.None))!.LimitMinutes);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The same contract on a real PostgreSQL server: test.sh runs the C# tests under
/// scripts/with-postgres.sh, which starts one on loopback and sets KPS_TEST_POSTGRES. Without it these fail.
/// </summary>
public sealed class PostgresBedStoreTests : BedStoreContract, IDisposable
{
    private readonly Lazy<string> _database = new(() => PostgresTestDatabase.Create());
    private readonly List<PostgresDialect> _pools = [];

    protected override async Task<IBedStore> CreateStoreAsync()
    {
        var dialect = new PostgresDialect(_database.Value);
        _pools.Add(dialect);
        var store = new SqlBedStore(dialect, TimeProvider.System);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    // the test server's connection slots are shared by every test: give them back
    public void Dispose() { foreach (var pool in _pools) pool.Dispose(); }
}

/// <summary>A fresh database per test class on the server scripts/with-postgres.sh started (KPS_TEST_POSTGRES).</summary>
public static class PostgresTestDatabase
{
    public static string Server => Environment.GetEnvironmentVariable("KPS_TEST_POSTGRES") is { Length: > 0 } s ? s
        : throw new InvalidOperationException("KPS_TEST_POSTGRES is not set: run the tests through ./test.sh or scripts/with-postgres.sh dotnet test ...");

    public static string Create()
    {
        var name = $"kps_{Guid.NewGuid():N}";
        using (var connection = new Npgsql.NpgsqlConnection(Server))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            command.ExecuteNonQuery();
        }
        return new Npgsql.NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString;
    }
}
