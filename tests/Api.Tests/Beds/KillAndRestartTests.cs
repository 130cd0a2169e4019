using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static KeypointService.Api.Tests.Beds.BedTestHost;

namespace KeypointService.Api.Tests.Beds;

/// <summary>
/// Nothing acknowledged is lost: a real service process is killed with SIGKILL while a frame is in
/// flight in a stream of frames, restarted on the same store, and every acknowledged frame's effect
/// and every event it reported must be there — on SQLite and on PostgreSQL. Runs alone (its
/// service processes would otherwise compete for the CPU with the in-process tests).
/// </summary>
[Collection(nameof(KillAndRestartTests))]
public sealed class KillAndRestartTests : IDisposable
{
    private const int AcknowledgedBeforeKill = 24;
    private readonly string _root = Directory.CreateTempSubdirectory("kps-kill-").FullName;
    // A guard against a hung test (start-up included), not a timing assertion.
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(8));

    public void Dispose()
    {
        _guard.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public Task Sqlite_keeps_every_acknowledged_frame_and_event_across_sigkill() =>
        RunAsync(new Dictionary<string, string> { ["Beds:Store"] = "sqlite", ["Beds:DataPath"] = Path.Combine(_root, "data") });

    [Fact]
    public Task Postgres_keeps_every_acknowledged_frame_and_event_across_sigkill() =>
        RunAsync(new Dictionary<string, string> { ["Beds:Store"] = "postgres", ["Beds:PostgresConnectionString"] = PostgresTestDatabase.Create() });

    private static (long Ms, string Id, int Shift) Frame(int i) =>
        // 20 s apart, with a 2-minute sensor gap every 8th frame, and the body moving so postures change.
        (T0 + i * 20_000L + i / 8 * 120_000L, $"frame-{i:D4}", i / 3 % 3 * 8 - 8);

    private static StringContent Body(int i) => new(Csv(Frame(i).Shift), Encoding.UTF8, "text/csv");

    private static string Url(int i) => $"/v1/beds/ward-3.bed-12/frames?timestamp={Frame(i).Ms}&frame_id={Frame(i).Id}";

    private async Task RunAsync(Dictionary<string, string> store)
    {
        var modelStore = Path.Combine(_root, "models");
        FixtureModels.Publish(modelStore, "spmkd", "1", "1");
        var settings = new Dictionary<string, string>(store)
        {
            ["ModelStore:Path"] = modelStore,
            ["ModelStore:Expected:0"] = "spmkd", ["ModelStore:Expected:1"] = "", ["ModelStore:Expected:2"] = "", ["ModelStore:Expected:3"] = "",
            ["ModelStore:Watch"] = "false",
            ["Beds:DwellSeconds"] = "0",
            ["Beds:SensorTimeoutSeconds"] = "60",
            ["Beds:RepositionLimitMinutes"] = "1",
            ["Serilog:ConsoleFormat"] = "none",
        };

        var acknowledged = new List<(int Index, string Body)>();
        var first = await ServiceProcess.StartAsync(settings, _guard.Token);
        await using (first)
        {
            for (var i = 0; i < AcknowledgedBeforeKill; i++)
            {
                var response = await first.Client.PostAsync(Url(i), Body(i), _guard.Token);
                var body = await response.Content.ReadAsStringAsync(_guard.Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"frame {i}: {(int)response.StatusCode} {body}\n{first.Log}");
                acknowledged.Add((i, body));
            }
            // The next frame is in flight when the process dies: it may or may not have been stored, but it was never acknowledged.
            var inFlight = first.Client.PostAsync(Url(AcknowledgedBeforeKill), Body(AcknowledgedBeforeKill), _guard.Token);
            first.Kill();
            try { (await inFlight).Dispose(); } catch (HttpRequestException) { } catch (TaskCanceledException) { }
        }
        var reportedEvents = acknowledged.SelectMany(a => JsonNode.Parse(a.Body)!["events"]!.AsArray()).Select(e => e!.ToJsonString()).ToList();
        Assert.NotEmpty(reportedEvents);
        Assert.Contains(reportedEvents, e => e.Contains("\"sensor_gap\""));

        await using var second = await ServiceProcess.StartAsync(settings, _guard.Token);
        var state = await ReadJson(await second.Client.GetAsync("/v1/beds/ward-3.bed-12", _guard.Token), HttpStatusCode.OK);
        var frames = state["frames"]!.GetValue<long>();
        Assert.InRange(frames, AcknowledgedBeforeKill, AcknowledgedBeforeKill + 1);
        var lastAcknowledged = JsonNode.Parse(acknowledged[^1].Body)!["timestamp"]!.GetValue<string>();
        Assert.True(string.CompareOrdinal(state["last_frame_at"]!.GetValue<string>(), lastAcknowledged) >= 0);

        var stored = (await ReadJson(await second.Client.GetAsync("/v1/beds/ward-3.bed-12/events?limit=1000", _guard.Token), HttpStatusCode.OK))["events"]!
            .AsArray().Select(e => e!.ToJsonString()).ToHashSet();
        Assert.All(reportedEvents, e => Assert.Contains(e, stored));

        // Every acknowledged frame is remembered with its answer: sending it again gives the same answer.
        foreach (var (index, body) in acknowledged)
        {
            var again = await second.Client.PostAsync(Url(index), Body(index), _guard.Token);
            Assert.Equal(body, await again.Content.ReadAsStringAsync(_guard.Token));
            Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        }
        // The in-flight frame is either stored (answered again) or not (accepted now); the stream then continues.
        var retry = await second.Client.PostAsync(Url(AcknowledgedBeforeKill), Body(AcknowledgedBeforeKill), _guard.Token);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var next = await ReadJson(await second.Client.PostAsync(Url(AcknowledgedBeforeKill + 1), Body(AcknowledgedBeforeKill + 1), _guard.Token), HttpStatusCode.OK);
        Assert.Equal(AcknowledgedBeforeKill + 2, next["state"]!["frames"]!.GetValue<long>());
    }
}

[CollectionDefinition(nameof(KillAndRestartTests), DisableParallelization = true)]
public sealed class KillAndRestartCollection;
