using System.Diagnostics;

namespace KeypointService.Bench;

/// <summary>The one timing loop of the benchmarks: warm-up calls, then sorted per-call times.</summary>
internal static class Timing
{
    /// <summary>Per-call times in milliseconds, sorted ascending, after <paramref name="warmup"/> untimed calls (JIT, native handles, ORT's arena).</summary>
    public static double[] Measure(Action run, int count, int warmup = 10)
    {
        for (var i = 0; i < warmup; i++) run();
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(samples);
        return samples;
    }

    public static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * sorted.Length))];
}
