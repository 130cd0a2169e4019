using System.Diagnostics;
using KeypointService.Models.Onnx;
using KeypointService.Models.Processing;

namespace KeypointService.Bench;

/// <summary>
/// Raw inference through the service's ONNX Runtime wrapper (<see cref="OnnxSession"/>: OrtValues over the
/// input array, pre-allocated outputs), with the service's session settings (1 intra-op thread):
/// single-image latency (p50/p99) on one thread, and the raw-inference throughput bound with one
/// worker per core sharing the session, which is what the service does under load.
/// </summary>
internal static class RawInferenceBenchmark
{
    public static int Run(Arguments args)
    {
        var iterations = args.Get("iterations", 300);
        var seconds = args.Get("seconds", 5.0);
        var threads = args.Get("intra-op-threads", 1);
        Console.WriteLine($"# ONNX Runtime {OnnxRuntimeEnvironment.Version} (official package), {Environment.ProcessorCount} cores, intra-op threads {threads}");
        Console.WriteLine("model\tinput\tp50_ms\tp99_ms\tbound_per_s\tbatch8_ms_per_image");
        foreach (var input in BenchmarkInputs.Load(args.Get("store", "models")))
        {
            var m = input.Manifest;
            using var session = OnnxSession.Create(Path.Combine(input.VersionDirectory, m.ModelFile), new OnnxSessionSettings { IntraOpThreads = threads, InterOpThreads = 1 });
            var tensorData = new float[m.Input.Height * m.Input.Width];
            Preprocessor.Prepare(input.Raw, input.Width, input.Height, m.Input, tensorData);
            var tensor = new OnnxTensor(m.Input.Name, [1, 1, m.Input.Height, m.Input.Width], tensorData);
            var outputs = session.Outputs.Select(o => o.Name).ToArray();

            for (var i = 0; i < 30; i++) session.Run([tensor], outputs); // warm-up
            var samples = new double[iterations];
            for (var i = 0; i < iterations; i++)
            {
                var start = Stopwatch.GetTimestamp();
                session.Run([tensor], outputs);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(samples);

            // Per-image cost inside a batch of 8 (what a batching server could reach).
            var batch = new OnnxTensor(m.Input.Name, [8, 1, m.Input.Height, m.Input.Width], Enumerable.Repeat(tensorData, 8).SelectMany(x => x).ToArray());
            var batchSamples = new double[Math.Max(10, iterations / 8)];
            for (var i = 0; i < batchSamples.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                session.Run([batch], outputs);
                batchSamples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / 8;
            }
            Array.Sort(batchSamples);

            // Throughput bound: one worker per core, shared session, for a fixed time after a warm-up.
            long done = 0;
            var deadline = long.MaxValue;
            var clock = Stopwatch.StartNew();
            using var warm = new Barrier(Environment.ProcessorCount + 1);
            var workers = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(() =>
            {
                for (var i = 0; i < 10; i++) session.Run([tensor], outputs); // per-thread warm-up
                warm.SignalAndWait();
                while (Stopwatch.GetTimestamp() < Volatile.Read(ref deadline)) { session.Run([tensor], outputs); Interlocked.Increment(ref done); }
            })).ToList();
            workers.ForEach(t => t.Start());
            warm.SignalAndWait();
            Volatile.Write(ref deadline, Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency));
            clock.Restart();
            workers.ForEach(t => t.Join());
            var measured = done / clock.Elapsed.TotalSeconds;
            // The bound is the larger of the measured parallel rate and cores / p50 (perfect scaling): the stricter goal.
            var throughput = Math.Max(measured, Environment.ProcessorCount * 1000 / Percentile(samples, 0.50));

            Console.WriteLine(FormattableString.Invariant(
                $"{input.Model}\t{m.Input.Width}x{m.Input.Height}\t{Percentile(samples, 0.50):F3}\t{Percentile(samples, 0.99):F3}\t{throughput:F1}\t{Percentile(batchSamples, 0.5):F3}"));
        }
        return 0;
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * sorted.Length))];
}
