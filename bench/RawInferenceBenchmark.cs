using KeypointService.Models.Onnx;
using KeypointService.Models.Processing;

namespace KeypointService.Bench;

/// <summary>
/// Raw inference through the service's ONNX Runtime wrapper (<see cref="OnnxSession"/>), per model, for
/// each intra-op thread count and batch size: the cost of one call (p50/p99) and images per second. This
/// is what the threading and batching defaults are chosen from, and the bound the HTTP levels are held to.
/// </summary>
internal static class RawInferenceBenchmark
{
    public static int Run(Arguments args)
    {
        var iterations = args.Get("iterations", 200);
        var threadCounts = args.Get("threads", "1,2").Split(',').Select(int.Parse).ToArray();
        var batchSizes = args.Get("batches", "1,2,4,8").Split(',').Select(int.Parse).ToArray();
        Console.WriteLine($"# ONNX Runtime {OnnxRuntimeEnvironment.Version} (official package), {Environment.ProcessorCount} cores");
        Console.WriteLine("model\tinput\tthreads\tbatch\tp50_ms\tp99_ms\timages_per_s");
        foreach (var input in BenchmarkInputs.Load(args.Get("store", "models")))
        {
            var m = input.Manifest;
            var plane = new float[m.Input.Height * m.Input.Width];
            Preprocessor.Prepare(input.Raw, input.Width, input.Height, m.Input, plane);
            foreach (var threads in threadCounts)
            {
                using var session = OnnxSession.Create(Path.Combine(input.VersionDirectory, m.ModelFile),
                    new OnnxSessionSettings { IntraOpThreads = threads, InterOpThreads = 1 });
                var outputs = session.Outputs.Select(o => o.Name).ToArray();
                foreach (var batch in m.Input.DynamicBatch ? batchSizes : [1])
                {
                    var tensor = new OnnxTensor(m.Input.Name, [batch, 1, m.Input.Height, m.Input.Width],
                        Enumerable.Repeat(plane, batch).SelectMany(x => x).ToArray());
                    var samples = Timing.Measure(() => session.Run([tensor], outputs), Math.Max(20, iterations / batch));
                    var p50 = Timing.Percentile(samples, 0.50);
                    Console.WriteLine(FormattableString.Invariant(
                        $"{input.Model}\t{m.Input.Width}x{m.Input.Height}\t{threads}\t{batch}\t{p50:F3}\t{Timing.Percentile(samples, 0.99):F3}\t{batch * 1000 / p50:F1}"));
                }
            }
        }
        return 0;
    }
}
