using System.Globalization;
using System.Text;

namespace KeypointService.Bench;

/// <summary>One soak window: what was answered in it (latencies of the good requests only) and the service's memory at its end.</summary>
internal sealed record SoakWindow(double TimeS, int Requests, int Ok, int Bad4xx, int Unexpected, int Http5xx, int Transport, int Skipped,
    double P50, double P99, double RssMiB, double GcHeapMiB, double Gen2, string Versions, double[] Sorted);

/// <summary>
/// The soak's CSV, markdown table and verdict. Flat means: after the warm-up, the mean RSS and the pooled p99 of
/// the last windows (up to 4) are within 10 % of those of the first windows after the warm-up. The goal also
/// needs zero 5xx, zero transport errors and every bad input answered 4xx (none "unexpected").
/// </summary>
internal static class SoakReport
{
    private const double Tolerance = 0.10;

    public static int Write(IReadOnlyList<SoakWindow> rows, IReadOnlyDictionary<string, int> failures, double warmupS, string output, string command)
    {
        var csv = new StringBuilder("time_s,requests,ok,bad_4xx,unexpected,http_5xx,transport_errors,skipped,p50_ms,p99_ms,rss_mib,gc_heap_mib,gen2_collections,versions\n");
        var md = new StringBuilder($"# Soak\n\n`KeypointService.Bench {command}`\n\n")
            .Append("| time s | requests | ok | bad → 4xx | unexpected | 5xx | transport errors | skipped | p50 ms | p99 ms | RSS MiB | GC heap MiB | gen-2 GCs | versions |\n")
            .Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            csv.Append(Invariant($"{r.TimeS:F0},{r.Requests},{r.Ok},{r.Bad4xx},{r.Unexpected},{r.Http5xx},{r.Transport},{r.Skipped},{r.P50:F1},{r.P99:F1},{r.RssMiB:F1},{r.GcHeapMiB:F1},{r.Gen2:F0},{r.Versions}\n"));
            md.Append(Invariant($"| {r.TimeS:F0} | {r.Requests} | {r.Ok} | {r.Bad4xx} | {r.Unexpected} | {r.Http5xx} | {r.Transport} | {r.Skipped} | {r.P50:F1} | {r.P99:F1} | {r.RssMiB:F0} | {r.GcHeapMiB:F0} | {r.Gen2:F0} | {r.Versions} |\n"));
        }
        var (verdict, met) = Verdict(rows, warmupS);
        md.Append('\n').Append(verdict).Append('\n');
        if (failures.Count > 0)
        {
            md.Append("\nFailures and unexpected answers by request (request → status: count):\n\n");
            foreach (var (what, n) in failures.OrderBy(f => f.Key, StringComparer.Ordinal)) md.Append($"* {what}: {n}\n");
        }
        File.WriteAllText(Path.Combine(output, "soak.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(output, "soak.md"), md.ToString());
        Console.WriteLine(verdict);
        foreach (var (what, n) in failures.OrderBy(f => f.Key, StringComparer.Ordinal)) Console.WriteLine($"[soak] {what}: {n}");
        return met ? 0 : 1;
    }

    private static (string Text, bool Met) Verdict(IReadOnlyList<SoakWindow> rows, double warmupS)
    {
        int server = rows.Sum(r => r.Http5xx), transport = rows.Sum(r => r.Transport), unexpected = rows.Sum(r => r.Unexpected);
        var errors = Invariant($"{rows.Sum(r => r.Requests)} requests, {server} 5xx, {transport} transport errors, {unexpected} unexpected answers, {rows.Sum(r => r.Bad4xx)} bad inputs answered 4xx, {rows.Sum(r => r.Skipped)} skipped (too many in flight)");
        var clean = server == 0 && transport == 0 && unexpected == 0;
        var post = rows.Where(r => r.TimeS > warmupS).ToList();
        if (post.Count < 2)
            return ($"**Verdict: not judged** — {post.Count} window(s) after the {warmupS:F0} s warm-up, 2 needed; {errors}.", false);
        var k = Math.Clamp(post.Count / 2, 1, 4);
        var (first, last) = (post.Take(k).ToList(), post.TakeLast(k).ToList());
        double rss0 = first.Average(r => r.RssMiB), rss1 = last.Average(r => r.RssMiB);
        double p0 = Pooled99(first), p1 = Pooled99(last);
        double dRss = (rss1 - rss0) / rss0, dP99 = (p1 - p0) / p0;
        var flat = Math.Abs(dRss) <= Tolerance && Math.Abs(dP99) <= Tolerance;
        var met = flat && clean;
        return (Invariant($"**Verdict: {(met ? "goal met" : "goal missed")}** — after the {warmupS:F0} s warm-up, first {k} vs last {k} windows: ") +
                Invariant($"RSS {rss0:F0} → {rss1:F0} MiB ({dRss:+0.0%;-0.0%}), p99 {p0:F1} → {p1:F1} ms ({dP99:+0.0%;-0.0%}) (flat = within ±10 %: {(flat ? "yes" : "no")}); {errors}."), met);
    }

    private static double Pooled99(IEnumerable<SoakWindow> windows)
    {
        var all = windows.SelectMany(w => w.Sorted).Order().ToArray();
        return all.Length == 0 ? double.NaN : Timing.Percentile(all, 0.99);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
