using System.Diagnostics;
using System.Globalization;
using KeypointService.Client;

namespace KeypointService.Bench;

/// <summary>
/// Many beds at one frame a second each against a running service, through the typed client: each bed
/// posts the spmkd benchmark input (raw float32) on its own one-second schedule (phases spread over the
/// second), with frame timestamps one second apart. For each level: frames sent, errors, late sends
/// (a frame could not start on time because the previous one had not returned), latency p50/p99, and the
/// service's CPU and resident memory from its /metrics.
/// </summary>
internal static class BedLoad
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var url = new Uri(args.Get("url", "http://127.0.0.1:8091/"));
        var seconds = args.Get("seconds", 20.0);
        var levels = args.Get("beds", "50,100,200,400").Split(',').Select(int.Parse).ToArray();
        var input = BenchmarkInputs.Load(args.Get("store", "models")).First(i => i.Model == args.Get("model", "spmkd"));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        var client = new KeypointServiceClient(http, url);
        // Warm-up, not reported: JIT, the store's first writes, the connection pool.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(b => RunBedAsync(client, $"warm-{b}", input, b / 50.0, 5)));
        Console.WriteLine("beds\tframes\terrors\tlate\tp50_ms\tp99_ms\tframes_per_s\tservice_cpu_cores\tservice_working_set_mib");
        foreach (var beds in levels)
        {
            var before = await Scrape(http);
            var clock = Stopwatch.StartNew();
            var results = await Task.WhenAll(Enumerable.Range(0, beds).Select(b =>
                RunBedAsync(client, $"load-{beds}-{b}", input, (double)b / beds, seconds)));
            var elapsed = clock.Elapsed.TotalSeconds;
            var after = await Scrape(http);
            var latencies = results.SelectMany(r => r.Latencies).Order().ToArray();
            double P(double q) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
            var cpu = (after.CpuSeconds - before.CpuSeconds) / elapsed;
            Console.WriteLine(FormattableString.Invariant(
                $"{beds}\t{latencies.Length}\t{results.Sum(r => r.Errors)}\t{results.Sum(r => r.Late)}\t{P(0.5):F1}\t{P(0.99):F1}\t{latencies.Length / elapsed:F1}\t{cpu:F2}\t{after.WorkingSetBytes / 1048576.0:F0}"));
        }
        return 0;
    }

    private sealed record BedResult(List<double> Latencies, int Errors, int Late);

    private static async Task<BedResult> RunBedAsync(KeypointServiceClient client, string bed, BenchmarkInputs.Input input, double phase, double seconds)
    {
        var latencies = new List<double>();
        int errors = 0, late = 0;
        var start = Stopwatch.GetTimestamp();
        var firstFrame = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var k = 0; phase + k < seconds; k++)
        {
            var due = TimeSpan.FromSeconds(phase + k) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero) await Task.Delay(due);
            else if (due < TimeSpan.FromMilliseconds(-100)) late++;
            var sent = Stopwatch.GetTimestamp();
            try
            {
                await client.PostFrameAsync(bed, input.Raw, input.Width, input.Height, firstFrame.AddSeconds(k), frameId: $"f{k}");
                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                errors++; // KeypointServiceException (503 overload, ...) is an HttpRequestException; a client timeout is a cancellation
            }
        }
        return new BedResult(latencies, errors, late);
    }

    private sealed record ProcessSample(double CpuSeconds, double WorkingSetBytes);

    // prometheus-net's process series from the service's /metrics.
    private static async Task<ProcessSample> Scrape(HttpClient http)
    {
        var text = await http.GetStringAsync("metrics");
        double Value(string name) => text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
        return new ProcessSample(Value("process_cpu_seconds_total"), Value("process_working_set_bytes"));
    }
}
