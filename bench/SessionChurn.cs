using System.Globalization;
using System.Runtime.InteropServices;
using KeypointService.Models.Onnx;

namespace KeypointService.Bench;

/// <summary>
/// Session churn without the service: creates an ONNX Runtime session for one model file through the service's
/// wrapper (the service's settings: one intra-op and one inter-op thread, all graph optimisations), runs it a few
/// times, disposes it, optionally calls glibc's malloc_trim(0), and repeats; prints the process's RSS
/// (VmRSS, RssAnon from /proc/self/status) every few iterations, as CSV. Tells a fixed amount lost per
/// session (RSS climbs with trimming) from memory that malloc only keeps (flat with trimming). --collect 1 runs a
/// full blocking GC before each report, so that the GC heap's share of the anonymous memory is known.
/// </summary>
internal static class SessionChurn
{
    public static int Run(Arguments args)
    {
        var modelFile = args.Get("model-file", "models/heatmap/6/model.onnx");
        var iterations = args.Get("iterations", 50);
        var runs = args.Get("runs", 10);
        var trim = args.Get("trim", 0) != 0;
        var every = args.Get("every", 5);
        var collect = args.Get("collect", 0) != 0;
        var settings = new OnnxSessionSettings { IntraOpThreads = 1, InterOpThreads = 1 };
        var random = new Random(1);
        Console.WriteLine("iteration,rss_mib,rss_anon_mib,gc_heap_mib,gc_committed_mib,onnx_sessions_open");
        Report(0, collect);
        for (var i = 1; i <= iterations; i++)
        {
            using (var session = OnnxSession.Create(modelFile, settings))
            {
                var input = session.Inputs[0];
                var shape = input.Shape.Select(d => d < 0 ? 1 : d).ToArray();
                var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
                for (var j = 0; j < data.Length; j++) data[j] = random.NextSingle();
                for (var r = 0; r < runs; r++) session.Run([new OnnxInput(input.Name, shape, data)]);
            }
            if (trim) MallocTrim(0);
            if (i % every == 0) Report(i, collect);
        }
        return 0;
    }

    private static void Report(int iteration, bool collect)
    {
        if (collect)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var status = File.ReadAllLines("/proc/self/status");
        double KiB(string key) => double.Parse(status.First(l => l.StartsWith(key + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Console.WriteLine(FormattableString.Invariant($"{iteration},{KiB("VmRSS") / 1024:F1},{KiB("RssAnon") / 1024:F1},{GC.GetTotalMemory(false) / 1048576.0:F1},{GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F1},{OnnxSession.OpenSessions}"));
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
