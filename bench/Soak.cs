using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace KeypointService.Bench;

/// <summary>
/// Soak: a steady open-loop mixed load (<see cref="SoakRequests"/>) at a fixed rate for a set time against a
/// running service, a few bad inputs a minute, and every window (15 s) one row: requests, failures by kind,
/// client-side p50/p99 of the good requests, and the service's RSS, GC heap and gen-2 collections from its
/// /metrics plus the model versions it serves (hot reloads come from outside, bench/soak.sh). Writes
/// soak.csv and soak.md (table and verdict) to --out; exit code 1 when the verdict is a miss.
/// </summary>
internal static class Soak
{
    /// <summary>Counts of one window; requests are counted in the window in which they are answered.</summary>
    private sealed class Window
    {
        public readonly ConcurrentQueue<double> Latencies = new();
        public int Requests, Ok, BadAnswered4xx, Unexpected, ServerErrors, TransportErrors, Skipped;
    }

    private sealed class Current
    {
        public Window Window = new();
        /// <summary>"request kind → status" of every failure and unexpected answer, for the report.</summary>
        public readonly ConcurrentDictionary<string, int> Failures = new();
    }

    public static async Task<int> RunAsync(Arguments args)
    {
        var url = new Uri(args.Get("url", "http://127.0.0.1:8095/"));
        var minutes = args.Get("minutes", 30.0);
        var rate = args.Get("rate", 80.0);
        var windowS = args.Get("window-seconds", 15.0);
        var warmupS = args.Get("warmup-minutes", 3.0) * 60;
        var badPerMinute = args.Get("bad-per-minute", 6.0);
        var output = args.Get("out", "artifacts/soak");
        Directory.CreateDirectory(output);
        var (good, bad) = SoakRequests.Create(args.Get("store", "models"), args.Get("examples", "examples"), args.Get("beds", 4));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        using var scrape = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };

        var current = new Current();
        var rows = new List<SoakWindow>();
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromMinutes(minutes);
        var sampler = Task.Run(async () =>
        {
            for (var w = 1; w * windowS <= end.TotalSeconds + 0.001; w++)
            {
                var due = TimeSpan.FromSeconds(w * windowS) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due);
                var done = Interlocked.Exchange(ref current.Window, new Window());
                var r = await SampleAsync(scrape, done, clock.Elapsed.TotalSeconds);
                rows.Add(r);
                Console.WriteLine(FormattableString.Invariant(
                    $"[soak] {r.TimeS,6:F0} s  req {r.Requests,5}  5xx {r.Http5xx}  unexpected {r.Unexpected}  transport {r.Transport}  p50 {r.P50,6:F1} ms  p99 {r.P99,6:F1} ms  RSS {r.RssMiB,6:F0} MiB  GC heap {r.GcHeapMiB,5:F0} MiB  {r.Versions}"));
            }
        });

        using var inFlight = new SemaphoreSlim(128);
        var pending = new List<Task>();
        var badEvery = badPerMinute > 0 ? 60.0 / badPerMinute : double.PositiveInfinity;
        long sent = 0, badSent = 0;
        while (clock.Elapsed < end)
        {
            var due = TimeSpan.FromSeconds(sent / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero) await Task.Delay(due);
            var isBad = (badSent + 1) * badEvery <= clock.Elapsed.TotalSeconds;
            var request = isBad ? bad[(int)(badSent++ % bad.Count)] : good[(int)(sent++ % good.Count)];
            if (!await inFlight.WaitAsync(0)) { Interlocked.Increment(ref current.Window.Skipped); continue; } // the service is behind: do not pile up
            pending.Add(Task.Run(async () =>
            {
                try { await SendAsync(http, request, current); }
                finally { inFlight.Release(); }
            }));
            if (pending.Count > 4096) pending.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(pending);
        await sampler;
        return SoakReport.Write(rows, current.Failures, warmupS, output, string.Join(' ', Environment.GetCommandLineArgs()[1..]));
    }

    private static async Task SendAsync(HttpClient http, SoakRequest request, Current current)
    {
        var start = Stopwatch.GetTimestamp();
        int? status = null;
        try { status = await request.Send(http, CancellationToken.None); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { }
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var w = Volatile.Read(ref current.Window);
        var ok = status is >= 200 and < 300 ? !request.Bad : status is >= 400 and < 500 && request.Bad;
        if (!ok) current.Failures.AddOrUpdate($"{request.Name} → {status?.ToString(CultureInfo.InvariantCulture) ?? "transport error"}", 1, (_, n) => n + 1);
        Interlocked.Increment(ref w.Requests);
        switch (status)
        {
            case null: Interlocked.Increment(ref w.TransportErrors); break;
            case >= 500: Interlocked.Increment(ref w.ServerErrors); break;
            case >= 400 and < 500 when request.Bad: Interlocked.Increment(ref w.BadAnswered4xx); break;
            case >= 200 and < 300 when !request.Bad:
                Interlocked.Increment(ref w.Ok);
                w.Latencies.Enqueue(elapsed);
                break;
            default: Interlocked.Increment(ref w.Unexpected); break;
        }
    }

    private static async Task<SoakWindow> SampleAsync(HttpClient http, Window w, double timeS)
    {
        var metrics = await http.GetStringAsync("metrics");
        double Value(string series) => metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault(double.NaN);
        var models = JsonNode.Parse(await http.GetStringAsync("v1/models"))!.AsArray();
        var versions = string.Join(" ", models.Select(m => $"{m!["name"]}/{m["version"]}").Order(StringComparer.Ordinal));
        var sorted = w.Latencies.Order().ToArray();
        double P(double q) => sorted.Length == 0 ? double.NaN : Timing.Percentile(sorted, q);
        return new SoakWindow(timeS, w.Requests, w.Ok, w.BadAnswered4xx, w.Unexpected, w.ServerErrors, w.TransportErrors, w.Skipped, P(0.5), P(0.99),
            Value("process_working_set_bytes") / 1048576, Value("dotnet_total_memory_bytes") / 1048576,
            Value("dotnet_collection_count_total{generation=\"2\"}"), versions, sorted);
    }
}
