using System.Collections.Concurrent;
using System.Diagnostics;
using KeypointService.Client;

namespace KeypointService.Bench;

/// <summary>
/// Load through the balancer of deploy/local-topology.sh, through the typed client: closed-loop predicts
/// (heatmap and spmkd, raw float32) and beds posting frames in time order with frame ids, every tenth frame
/// sent twice at once (a racing duplicate). A failed request is counted and the same frame is sent again, as
/// a bed would. Afterwards every bed is read back through the balancer: its frame count and last frame time,
/// and every acknowledged frame id posted again must come back as the stored answer at its position.
/// The load runs for --seconds, or until --stop-file exists. Prints "key: value" lines; exit code 1 when a request failed or a bed does not read back.
/// </summary>
internal static class TopologyLoad
{
    private sealed class Tally
    {
        public readonly ConcurrentQueue<double> Latencies = new();
        public readonly ConcurrentDictionary<string, int> Failures = new();
        public readonly ConcurrentDictionary<string, int> Versions = new();
        public int Requests;
        public void Fail(Exception e) => Failures.AddOrUpdate(Describe(e), 1, (_, n) => n + 1);
    }

    private sealed record Ack(int K, DateTimeOffset Timestamp, long Frames);

    public static async Task<int> RunAsync(Arguments args)
    {
        var url = new Uri(args.Get("url", "http://127.0.0.1:8100/"));
        var seconds = args.Get("seconds", 20.0);
        var beds = args.Get("beds", 6);
        var frameHz = args.Get("frame-hz", 4.0);
        var concurrency = args.Get("concurrency", 4);
        var inputs = BenchmarkInputs.Load(args.Get("store", "models")).ToDictionary(i => i.Model);
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        var client = new KeypointServiceClient(http, url);
        var run = $"{DateTime.UtcNow:HHmmss}";

        var predicts = new Tally();
        var frames = new Tally();
        int duplicates = 0, replayedPairs = 0, replayedSingles = 0, duplicateMismatches = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        if (args.Get("stop-file", "") is { Length: > 0 } stopFile) // the driving script ends the load when its steps are done
            _ = Task.Run(async () => { while (!File.Exists(stopFile) && !stop.IsCancellationRequested) await Task.Delay(100); stop.Cancel(); });
        var predictLoops = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            for (var i = w; !stop.IsCancellationRequested; i++)
            {
                var input = inputs[i % 2 == 0 ? "heatmap" : "spmkd"];
                await Timed(predicts, async () =>
                {
                    var r = await client.PredictPressureMapAsync(input.Model, input.Raw, input.Width, input.Height);
                    predicts.Versions.AddOrUpdate($"{r.Model}/{r.Version}", 1, (_, n) => n + 1);
                });
            }
        }));
        var spmkd = inputs["spmkd"];
        var bedLoops = Enumerable.Range(0, beds).Select(b => Task.Run(async () =>
        {
            var bed = $"topology-{run}-{b}";
            var acks = new List<Ack>();
            var start = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
            var clock = Stopwatch.StartNew();
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                var due = TimeSpan.FromSeconds((k + b / (double)beds) / frameHz) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due);
                var stamp = start.AddSeconds(k);
                var frameId = $"f{k:D5}";
                Task<BedFrameResult> Post() => client.PostFrameAsync(bed, spmkd.Raw, spmkd.Width, spmkd.Height, stamp, frameId);
                while (true)
                {
                    BedFrameResult[]? answers = null;
                    var pair = k % 10 == 5;
                    await Timed(frames, async () => answers = pair ? await Task.WhenAll(Post(), Post()) : [await Post()], pair ? 2 : 1);
                    if (answers is null)
                    {
                        if (stop.IsCancellationRequested) return (bed, acks);
                        await Task.Delay(200); // the bed sends the same frame again
                        continue;
                    }
                    if (pair)
                    {
                        Interlocked.Increment(ref duplicates);
                        if (answers[0].State.Frames != answers[1].State.Frames) Interlocked.Increment(ref duplicateMismatches);
                        Interlocked.Add(ref replayedPairs, answers.Count(a => a.Replayed));
                    }
                    else if (answers[0].Replayed) Interlocked.Increment(ref replayedSingles); // a retry of a frame stored before its replica died
                    acks.Add(new Ack(k, stamp, answers[0].State.Frames));
                    break;
                }
            }
            return (bed, acks);
        })).ToArray();
        await Task.WhenAll(predictLoops);
        var bedResults = await Task.WhenAll(bedLoops);

        Report("predict", predicts);
        Report("frames", frames);
        foreach (var (version, n) in predicts.Versions.OrderBy(v => v.Key)) Console.WriteLine($"predict_answers_{version}: {n}");
        Console.WriteLine($"frames_duplicate_pairs: {duplicates}");
        Console.WriteLine($"frames_duplicate_answers_replayed: {replayedPairs}");
        Console.WriteLine($"frames_single_answers_replayed: {replayedSingles}");
        Console.WriteLine($"frames_duplicate_mismatches: {duplicateMismatches}");
        var readBack = await ReadBackAsync(client, spmkd, bedResults);
        var failed = predicts.Failures.Values.Sum() + frames.Failures.Values.Sum();
        return failed == 0 && duplicateMismatches == 0 && readBack ? 0 : 1;
    }

    /// <summary>Each bed through the balancer: count and last time, then every acknowledged frame again (answered from storage, at its position).</summary>
    private static async Task<bool> ReadBackAsync(KeypointServiceClient client, BenchmarkInputs.Input spmkd, (string Bed, List<Ack> Acks)[] beds)
    {
        int frames = 0, badState = 0, badOrder = 0, notReplayed = 0;
        using var gate = new SemaphoreSlim(8);
        foreach (var (bed, acks) in beds)
        {
            var state = await client.GetBedAsync(bed);
            if (acks.Count == 0 || state.Frames != acks.Count || state.LastFrameAt != acks[^1].Timestamp) badState++;
            // the live answers: frame count 1, 2, 3, ... in send order (no frame lost, doubled or reordered)
            badOrder += acks.Where((a, i) => a.Frames != i + 1).Count();
            var again = await Task.WhenAll(acks.Select(async (a, i) =>
            {
                await gate.WaitAsync();
                try { return (Ack: a, Answer: await client.PostFrameAsync(bed, spmkd.Raw, spmkd.Width, spmkd.Height, a.Timestamp, $"f{a.K:D5}")); }
                finally { gate.Release(); }
            }));
            frames += again.Length;
            notReplayed += again.Count(r => !r.Answer.Replayed || r.Answer.State.Frames != r.Ack.Frames);
        }
        Console.WriteLine($"beds_read_back: {beds.Length}");
        Console.WriteLine($"beds_state_mismatches: {badState}");
        Console.WriteLine($"frames_acknowledged: {beds.Sum(b => b.Acks.Count)}");
        Console.WriteLine($"frames_out_of_sequence: {badOrder}");
        Console.WriteLine($"frames_posted_again: {frames}");
        Console.WriteLine($"frames_not_replayed_identically: {notReplayed}");
        return badState == 0 && badOrder == 0 && notReplayed == 0;
    }

    private static async Task Timed(Tally tally, Func<Task> request, int requests = 1)
    {
        var sent = Stopwatch.GetTimestamp();
        Interlocked.Add(ref tally.Requests, requests);
        try
        {
            await request();
            tally.Latencies.Enqueue(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            tally.Fail(e);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        KeypointServiceException k => $"HTTP {(int)k.Status}",
        TaskCanceledException => "timeout",
        _ => $"{e.GetType().Name}: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}",
    };

    private static void Report(string what, Tally tally)
    {
        var sorted = tally.Latencies.Order().ToArray();
        Console.WriteLine($"{what}_requests: {tally.Requests}");
        Console.WriteLine($"{what}_failed: {tally.Failures.Values.Sum()}{string.Concat(tally.Failures.Select(f => $" ({f.Key}: {f.Value})"))}");
        if (sorted.Length > 0)
            Console.WriteLine(FormattableString.Invariant(
                $"{what}_latency_ms: p50 {Timing.Percentile(sorted, 0.5):F1}, p99 {Timing.Percentile(sorted, 0.99):F1}, max {sorted[^1]:F1}"));
    }
}
