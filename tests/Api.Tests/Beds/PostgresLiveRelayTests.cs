using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeypointService.Api.Beds.Live;
using KeypointService.Api.Beds.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static KeypointService.Api.Tests.Beds.BedTestHost;

namespace KeypointService.Api.Tests.Beds;

/// <summary>
/// Live pushes between replicas sharing a PostgreSQL bed store (LISTEN/NOTIFY): a replica's pushes reach
/// the live connections of the others, not its own twice, and a push too large for a notification is
/// counted instead of sent. Runs under scripts/with-postgres.sh (KPS_TEST_POSTGRES).
/// </summary>
public sealed class PostgresLiveRelayTests : IAsyncDisposable
{
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(1));
    private readonly List<(PostgresDialect Database, PostgresLiveRelay Relay)> _replicas = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var (database, relay) in _replicas)
        {
            await relay.StopAsync(CancellationToken.None);
            database.Dispose();
        }
        _guard.Dispose();
    }

    private async Task<(PostgresLiveRelay Relay, BedLiveHub Hub)> ReplicaAsync(string connectionString)
    {
        var database = new PostgresDialect(connectionString);
        var hub = new BedLiveHub();
        var relay = new PostgresLiveRelay(database, hub, NullLogger<PostgresLiveRelay>.Instance);
        _replicas.Add((database, relay));
        await relay.StartAsync(_guard.Token);
        await relay.Listening.WaitAsync(_guard.Token);
        return (relay, hub);
    }

    private static LivePush Event(long id, string type) =>
        new(LiveKinds.Event, new { id, bed_id = "bed-r", type, data = new { reason = "test" } }, id);

    [Fact]
    public async Task A_replicas_pushes_reach_the_other_replicas_connections_once()
    {
        var database = PostgresTestDatabase.Create();
        var (a, hubA) = await ReplicaAsync(database);
        var (_, hubB) = await ReplicaAsync(database);
        var onA = new LiveConnection("bed-r", 16, wantsFrames: true);
        var onB = new LiveConnection("bed-r", 16, wantsFrames: true);
        var otherBed = new LiveConnection("bed-other", 16, wantsFrames: true);
        using var subscriptions = new CompositeDisposable(hubA.Subscribe(onA), hubB.Subscribe(onB), hubB.Subscribe(otherBed));

        a.Relay("bed-r", [Event(7, "alert_raised"), new LivePush(LiveKinds.Frame, new { bed_id = "bed-r", frames = 3 })]);
        var first = await onB.Queue.Reader.ReadAsync(_guard.Token);
        var second = await onB.Queue.Reader.ReadAsync(_guard.Token);
        Assert.Equal((LiveKinds.Event, 7L), (first.Kind, first.EventId!.Value));
        Assert.Equal("alert_raised", ((JsonElement)first.Payload).GetProperty("type").GetString());
        Assert.Equal((LiveKinds.Frame, 3), (second.Kind, ((JsonElement)second.Payload).GetProperty("frames").GetInt32()));

        // a marker through B proves A's own notifications have arrived (NOTIFY is delivered in order) and were not handed on again
        a.Relay("bed-r", [Event(8, "marker")]);
        Assert.Equal(8L, (await onB.Queue.Reader.ReadAsync(_guard.Token)).EventId);
        Assert.False(onA.Queue.Reader.TryRead(out _));
        Assert.False(otherBed.Queue.Reader.TryRead(out _));
        Assert.Equal(0, a.NotRelayed);
    }

    [Fact]
    public async Task A_push_too_large_for_a_notification_is_counted_not_sent()
    {
        var database = PostgresTestDatabase.Create();
        var (a, _) = await ReplicaAsync(database);
        var (_, hubB) = await ReplicaAsync(database);
        var onB = new LiveConnection("bed-r", 16, wantsFrames: true);
        using var subscription = hubB.Subscribe(onB);
        a.Relay("bed-r", [new LivePush(LiveKinds.Frame, new { blob = new string('x', PostgresLiveRelay.MaxPayloadBytes) }), Event(9, "after")]);
        Assert.Equal(9L, (await onB.Queue.Reader.ReadAsync(_guard.Token)).EventId); // the next push still goes
        Assert.Equal(1, a.NotRelayed);
        Assert.False(onB.Queue.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_listener_whose_connection_is_killed_listens_again()
    {
        var database = PostgresTestDatabase.Create();
        var (a, _) = await ReplicaAsync(database);
        var (_, hubB) = await ReplicaAsync(new Npgsql.NpgsqlConnectionStringBuilder(database) { ApplicationName = "replica-b" }.ConnectionString);
        var onB = new LiveConnection("bed-r", 64, wantsFrames: true);
        using var subscription = hubB.Subscribe(onB);
        await using (var admin = new Npgsql.NpgsqlConnection(database))
        {
            await admin.OpenAsync(_guard.Token);
            await using var kill = new Npgsql.NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'replica-b'", admin);
            Assert.Equal(1L, await kill.ExecuteScalarAsync(_guard.Token)); // B's only connection: its listener
        }
        // pushes sent while a listener reconnects are lost (documented); keep sending until one arrives
        for (var id = 100L; !onB.Queue.Reader.TryRead(out _); id++)
        {
            a.Relay("bed-r", [Event(id, "after_kill")]);
            await Task.Delay(200, _guard.Token);
        }
    }

    private sealed class CompositeDisposable(params IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var item in items) item.Dispose(); }
    }
}

/// <summary>
/// Two real service processes on one PostgreSQL bed store: a dashboard's event stream on one replica
/// receives, live, the events of frames posted to the other. Runs alone with the other process tests.
/// </summary>
[Collection(nameof(KillAndRestartTests))]
public sealed class ReplicaLiveStreamTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kps-live-").FullName;
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(4)); // start-up included; not a timing assertion

    public void Dispose()
    {
        _guard.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task An_event_stream_on_one_replica_follows_frames_posted_to_another()
    {
        var models = Path.Combine(_root, "models");
        FixtureModels.Publish(models, "spmkd", "1", "1");
        var settings = new Dictionary<string, string>
        {
            ["Beds:Store"] = "postgres", ["Beds:PostgresConnectionString"] = PostgresTestDatabase.Create(),
            ["ModelStore:Path"] = models, ["ModelStore:Watch"] = "false",
            ["ModelStore:Expected:0"] = "spmkd", ["ModelStore:Expected:1"] = "", ["ModelStore:Expected:2"] = "", ["ModelStore:Expected:3"] = "",
            ["Beds:DwellSeconds"] = "0", ["Beds:RepositionLimitMinutes"] = "1", ["Serilog:ConsoleFormat"] = "none",
            ["Grpc:Url"] = "", // two replicas on one machine: no fixed gRPC port
        };
        await using var a = await ServiceProcess.StartAsync(settings, _guard.Token);
        await using var b = await ServiceProcess.StartAsync(settings, _guard.Token);
        const string bed = "ward-5.bed-2";
        await ReadJson(await a.Client.PostAsync($"/v1/beds/{bed}/frames?timestamp={T0}", new StringContent(Csv(), Encoding.UTF8, "text/csv"), _guard.Token), HttpStatusCode.OK);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/beds/{bed}/events/stream");
        using var response = await b.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _guard.Token);
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(_guard.Token));
        Assert.Equal("posture_changed", JsonNode.Parse(await NextData(stream))!["type"]!.GetValue<string>()); // replayed from storage

        // a replica listens before it reports ready, so B hears what A sends from now on
        var overdue = await ReadJson(await a.Client.PostAsync($"/v1/beds/{bed}/frames?timestamp={T0 + 120_000}", new StringContent(Csv(), Encoding.UTF8, "text/csv"), _guard.Token), HttpStatusCode.OK);
        var events = overdue["events"]!.AsArray();
        Assert.Contains(events, e => e!["type"]!.GetValue<string>() == "alert_raised"); // after a sensor gap
        foreach (var expected in events)
            Assert.Equal(expected!.ToJsonString(), JsonNode.Parse(await NextData(stream))!.ToJsonString());
        Assert.Contains("kps_bed_live_not_relayed_total 0", await a.Client.GetStringAsync("/metrics", _guard.Token));
    }

    private async Task<string> NextData(StreamReader reader)
    {
        while (await reader.ReadLineAsync(_guard.Token) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) return line[6..];
        throw new EndOfStreamException("the SSE stream ended");
    }
}
