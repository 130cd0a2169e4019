"""Formats bench/run.sh results as Markdown (every run, the spread, the goals) and optionally writes them
into docs/benchmarks.md between the bench markers."""
import platform
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def rows(path):
    return [line.rstrip("\n").split("\t") for line in open(path) if line.strip() and not line.startswith(("#", "model", "format"))]


def spread(values, fmt="{:.2f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def raw_section(out):
    raw = [dict(model=r[0], size=r[1], threads=int(r[2]), batch=int(r[3]), p50=float(r[4]), p99=float(r[5]), ips=float(r[6]))
           for r in rows(f"{out}/raw.tsv")]
    lines = ["**Raw inference** (`KeypointService.Bench raw`: one session, one call at a time):", "",
             "| model | input | intra-op threads | batch | p50 ms | p99 ms | images/s |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['size']} | {r['threads']} | {r['batch']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['ips']:.0f} |" for r in raw]
    return raw, lines


def bound(raw, model):
    """Raw batched 2-core bound: the best of one 2-thread session and two 1-thread workers (perfect scaling)."""
    two = max(r["ips"] for r in raw if r["model"] == model and r["threads"] == 2)
    one = 2 * max(r["ips"] for r in raw if r["model"] == model and r["threads"] == 1)
    return max(two, one)


def options_section(out):
    opts = defaultdict(dict)
    for run, threads, workers, c, p50, p99, rps in rows(f"{out}/options.tsv"):
        opts[(threads, workers)].setdefault(int(c), []).append((ms(p50), ms(p99), float(rps)))
    lines = ["**Threading options** (heatmap, /v1 binary body; median and range over the runs):", "",
             "| intra-op threads × batch workers | c=1 p50 ms | c=16 req/s | c=16 p99 ms |", "|---|---|---|---|"]
    for (threads, workers), levels in opts.items():
        lines.append(f"| {threads} × {workers} | {spread([v[0] for v in levels[1]])} | {spread([v[2] for v in levels[16]], '{:.0f}')} | "
                     f"{spread([v[1] for v in levels[16]], '{:.1f}')} |")
    return lines


def http_section(out, raw):
    http = defaultdict(list)
    for run, model, kind, c, p50, p99, rps in rows(f"{out}/http.tsv"):
        http[(model, kind, int(c))].append((int(run), ms(p50), ms(p99), float(rps)))
    lines = ["**The service with its defaults** (median and range over the runs):", "",
             "| model | body | c | p50 ms | p99 ms | req/s |", "|---|---|---|---|---|---|"]
    for (model, kind, c), values in http.items():
        lines.append(f"| {model} | {kind} | {c} | {spread([v[1] for v in values])} | {spread([v[2] for v in values], '{:.1f}')} | "
                     f"{spread([v[3] for v in values], '{:.0f}')} |")
    return http, lines


def goals_section(raw, http):
    raw_two = next(r["p50"] for r in raw if r["model"] == "heatmap" and r["threads"] == 2 and r["batch"] == 1)
    limit = bound(raw, "heatmap")
    lines = ["", f"**Goals** (heatmap; raw 2-thread p50 {raw_two:.2f} ms, raw batched 2-core bound {limit:.0f} images/s):", "",
             "| body | run | c=1 p50 ≤ raw + 0.5 ms | c=16 req/s ≥ 90 % of bound | c=16 p99 ≤ 120 ms |", "|---|---|---|---|---|"]
    for kind in ("binary", "json", "oip", "grpc"):
        for (run, p50, _, _), (_, _, p99, rps) in zip(http[("heatmap", kind, 1)], http[("heatmap", kind, 16)]):
            mark = lambda ok: "met" if ok else "missed"
            lines.append(f"| {kind} | {run} | {p50:.2f} ms: {mark(p50 <= raw_two + 0.5)} | {rps:.0f} ({rps / limit:.0%}): {mark(rps >= 0.9 * limit)} | "
                         f"{p99:.1f} ms: {mark(p99 <= 120)} |")
    return lines


def decode_section(out):
    lines = ["", "**Input decoding** (`KeypointService.Bench decode`, 256 × 256):", "", "| format | median µs | p90 µs |", "|---|---|---|"]
    lines += [f"| {name} | {median} | {p90} |" for name, median, p90 in rows(f"{out}/decode.tsv")]
    return lines


def main(out, seconds, *rest):
    raw, raw_lines = raw_section(out)
    http, http_lines = http_section(out, raw)
    header = next((line[1:].strip() for line in open(f"{out}/raw.tsv") if line.startswith("#")), "")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    lines = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC at commit `{commit}` on {cpu}; {header}; "
             f"{seconds} s per level; HTTP load by wrk (1 thread), gRPC load by `KeypointService.Bench grpc`, on the same cores; "
             f"load average at the end {' '.join(load)}.", ""]
    lines += raw_lines + [""] + options_section(out) + [""] + http_lines + goals_section(raw, http) + decode_section(out)
    table = "\n".join(lines)
    print(table)
    if rest and rest[0] == "--write":
        path = rest[1]
        doc = open(path).read()
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        open(path, "w").write(doc[:start] + "\n" + table + "\n" + doc[end:])


if __name__ == "__main__":
    main(*sys.argv[1:])
