using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using KeypointService.Api.Tests.Beds;
using Xunit.Abstractions;
using static KeypointService.Api.Tests.Beds.BedTestHost;

namespace KeypointService.Api.Tests.Faults;

/// <summary>
/// The service process is SIGKILLed while eight clients keep it busy (six bed streams, two predict loops) and
/// restarted on the same stores. Every request either got its complete 200 answer or a connection error while
/// it was in flight — never an HTTP error — and every acknowledged frame, event and bed state survives
/// (docs/reliability.md). KillAndRestartTests covers one stream with one frame in flight; this is the loaded case.
/// </summary>
[Collection(nameof(KillAndRestartTests))]
public sealed class SigkillUnderLoadTests(ITestOutputHelper output) : IDisposable
{
    private const int Beds = 6, Predictors = 2, AcknowledgedPerBedBeforeKill = 4;
    private readonly string _root = Directory.CreateTempSubdirectory("kps-sigkill-load-").FullName;
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(8)); // against a hang, not a timing assertion

    public void Dispose()
    {
        _guard.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public Task Sqlite_under_load() =>
        RunAsync(new Dictionary<string, string> { ["Beds:Store"] = "sqlite", ["Beds:DataPath"] = Path.Combine(_root, "data") });

    [Fact]
    public Task Postgres_under_load() =>
        RunAsync(new Dictionary<string, string> { ["Beds:Store"] = "postgres", ["Beds:PostgresConnectionString"] = PostgresTestDatabase.Create() });

    private static string Bed(int b) => $"ward-9.bed-{b}";

    private static string Url(int bed, int i) => $"/v1/beds/{Bed(bed)}/frames?timestamp={T0 + i * 20_000L}&frame_id=f-{bed}-{i:D4}";

    private static StringContent Frame(int i) => new(Csv(i / 3 % 3 * 8 - 8), Encoding.UTF8, "text/csv");

    private sealed class Outcomes
    {
        public readonly ConcurrentDictionary<int, List<string>> Acknowledged = new(); // bed → answers, in order
        public readonly ConcurrentQueue<string> HttpErrors = new();                   // any non-200: never allowed
        public readonly ConcurrentQueue<string> ConnectionErrors = new();             // requests in flight at the kill
        public int Predictions;
    }

    private async Task RunAsync(Dictionary<string, string> bedStore)
    {
        var modelStore = Path.Combine(_root, "models");
        FixtureModels.Publish(modelStore, "spmkd", "1", "1");
        var settings = new Dictionary<string, string>(bedStore)
        {
            ["ModelStore:Path"] = modelStore,
            ["ModelStore:Expected:0"] = "spmkd", ["ModelStore:Expected:1"] = "", ["ModelStore:Expected:2"] = "", ["ModelStore:Expected:3"] = "",
            ["ModelStore:Watch"] = "false",
            ["Beds:DwellSeconds"] = "0",
            ["Beds:RepositionLimitMinutes"] = "1",
            ["Serilog:ConsoleFormat"] = "none",
        };

        var outcomes = new Outcomes();
        var killing = new CancellationTokenSource();
        var first = await ServiceProcess.StartAsync(settings, _guard.Token);
        await using (first)
        {
            var clients = Enumerable.Range(0, Beds).Select(b => Task.Run(() => StreamFrames(first.Client, b, outcomes, killing.Token)))
                .Concat(Enumerable.Range(0, Predictors).Select(_ => Task.Run(() => Predict(first.Client, outcomes, killing.Token))))
                .ToArray();
            while (Enumerable.Range(0, Beds).Any(b => AcknowledgedCount(outcomes, b) < AcknowledgedPerBedBeforeKill)
                   && outcomes.HttpErrors.IsEmpty && clients.All(c => !c.IsCompleted))
                await Task.Delay(20, _guard.Token);
            killing.Cancel(); // clients send nothing new; what is in flight now meets the kill
            first.Kill();
            await Task.WhenAll(clients).WaitAsync(_guard.Token);
        }

        output.WriteLine($"acknowledged frames {Enumerable.Range(0, Beds).Sum(b => AcknowledgedCount(outcomes, b))}, predictions {outcomes.Predictions}, " +
                         $"connection errors {outcomes.ConnectionErrors.Count}: {string.Join(" | ", outcomes.ConnectionErrors)}");
        Assert.Empty(outcomes.HttpErrors);
        Assert.True(outcomes.Predictions > 0);
        Assert.NotEmpty(outcomes.ConnectionErrors); // the kill met requests in flight (eight clients send back to back)
        Assert.InRange(outcomes.ConnectionErrors.Count, 1, Beds + Predictors); // at most one per client: the one in flight

        await using var second = await ServiceProcess.StartAsync(settings, _guard.Token);
        for (var b = 0; b < Beds; b++)
        {
            var acknowledged = outcomes.Acknowledged[b];
            var state = await ReadJson(await second.Client.GetAsync($"/v1/beds/{Bed(b)}", _guard.Token), HttpStatusCode.OK);
            Assert.InRange(state["frames"]!.GetValue<long>(), acknowledged.Count, acknowledged.Count + 1); // + the one in flight, if it was stored

            var stored = (await ReadJson(await second.Client.GetAsync($"/v1/beds/{Bed(b)}/events?limit=1000", _guard.Token), HttpStatusCode.OK))["events"]!
                .AsArray().Select(e => e!.ToJsonString()).ToHashSet();
            var reported = acknowledged.SelectMany(a => JsonNode.Parse(a)!["events"]!.AsArray()).Select(e => e!.ToJsonString());
            Assert.All(reported, e => Assert.Contains(e, stored));

            for (var i = 0; i < acknowledged.Count; i++)
            {
                var again = await second.Client.PostAsync(Url(b, i), Frame(i), _guard.Token);
                Assert.Equal(acknowledged[i], await again.Content.ReadAsStringAsync(_guard.Token));
                Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
            }
            // The client retries the frame it never got an answer for; the stream then continues.
            await ReadJson(await second.Client.PostAsync(Url(b, acknowledged.Count), Frame(acknowledged.Count), _guard.Token), HttpStatusCode.OK);
            var next = await ReadJson(await second.Client.PostAsync(Url(b, acknowledged.Count + 1), Frame(acknowledged.Count + 1), _guard.Token), HttpStatusCode.OK);
            Assert.Equal(acknowledged.Count + 2, next["state"]!["frames"]!.GetValue<long>());
        }
    }

    private static int AcknowledgedCount(Outcomes outcomes, int bed)
    {
        if (!outcomes.Acknowledged.TryGetValue(bed, out var answers)) return 0;
        lock (answers) return answers.Count;
    }

    private static async Task StreamFrames(HttpClient client, int bed, Outcomes outcomes, CancellationToken killing)
    {
        var answers = outcomes.Acknowledged.GetOrAdd(bed, _ => []);
        for (var i = 0; !killing.IsCancellationRequested; i++)
        {
            if (await Send(() => client.PostAsync(Url(bed, i), Frame(i)), outcomes, $"bed {bed} frame {i}") is not { } body) return;
            lock (answers) answers.Add(body);
        }
    }

    private static async Task Predict(HttpClient client, Outcomes outcomes, CancellationToken killing)
    {
        var csv = Csv();
        while (!killing.IsCancellationRequested)
        {
            if (await Send(() => client.PostAsync("/v1/models/spmkd/predict", new StringContent(csv, Encoding.UTF8, "text/csv")), outcomes, "predict") is null) return;
            Interlocked.Increment(ref outcomes.Predictions);
        }
    }

    /// <summary>The complete 200 body; null after a connection error or an HTTP error (both recorded).</summary>
    private static async Task<string?> Send(Func<Task<HttpResponseMessage>> request, Outcomes outcomes, string what)
    {
        try
        {
            using var response = await request();
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) { outcomes.HttpErrors.Enqueue($"{what}: {(int)response.StatusCode} {body}"); return null; }
            JsonNode.Parse(body); // a complete document, not a truncated one
            return body;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            outcomes.ConnectionErrors.Enqueue($"{what}: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }
}
