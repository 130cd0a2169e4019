"""Formats bench/run.sh results as Markdown and optionally writes them into docs/benchmarks.md."""
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def main(raw_path, http_path, seconds, *rest):
    raw = {}
    header = ""
    for line in open(raw_path):
        if line.startswith("#"):
            header = line[1:].strip()
        elif not line.startswith("model"):
            model, size, p50, p99, bound, batch8 = line.split("\t")
            raw[model] = dict(size=size, p50=float(p50), p99=float(p99), bound=float(bound), batch8=float(batch8))
    http = {}
    for line in open(http_path):
        model, c, p50, p99, rps = line.split("\t")
        http.setdefault(model, {})[int(c)] = dict(p50=ms(p50), p99=ms(p99), rps=float(rps))

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC at commit `{commit}` on {cpu}; {header}; "
        f"{seconds} s per HTTP level (wrk, 1 thread, on the same machine).",
        "",
        "| model | input | raw p50 ms | raw p99 ms | raw bound img/s | batch-8 ms/img | HTTP c=1 p50 ms | c=1 p99 ms | c=1 overhead ms | c=4 p50 / p99 ms | c=4 req/s | c=16 p50 / p99 ms | c=16 req/s | c=16 / bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, r in raw.items():
        h = http.get(model, {})
        if not all(c in h for c in (1, 4, 16)):
            continue
        lines.append(
            f"| {model} | {r['size']} | {r['p50']:.3f} | {r['p99']:.3f} | {r['bound']:.0f} | {r['batch8']:.3f} | {h[1]['p50']:.3f} | {h[1]['p99']:.3f} | "
            f"{h[1]['p50'] - r['p50']:+.3f} | {h[4]['p50']:.2f} / {h[4]['p99']:.2f} | {h[4]['rps']:.0f} | "
            f"{h[16]['p50']:.2f} / {h[16]['p99']:.2f} | {h[16]['rps']:.0f} | {h[16]['rps'] / r['bound']:.0%} |")
    table = "\n".join(lines)
    print(table)
    if rest and rest[0] == "--write":
        path = rest[1]
        doc = open(path).read()
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        open(path, "w").write(doc[:start] + "\n" + table + "\n" + doc[end:])


if __name__ == "__main__":
    main(*sys.argv[1:])
