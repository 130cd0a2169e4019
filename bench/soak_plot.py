"""Plot of a soak's soak.csv (bench/soak.sh): RSS and GC heap, p50/p99 latency, and errors per window;
dotted lines where the served model versions changed (a hot reload).
    /usr/bin/python3 bench/soak_plot.py soak.csv soak.png
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{source}: no windows")
    t = [float(r["time_s"]) / 60 for r in rows]
    col = lambda name: [float(r[name]) for r in rows]  # noqa: E731
    reloads = [t[i] for i in range(1, len(rows)) if rows[i]["versions"] != rows[i - 1]["versions"]]

    fig, (memory, latency, errors) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    memory.plot(t, col("rss_mib"), label="RSS")
    memory.plot(t, col("gc_heap_mib"), label="GC heap")
    memory.set_ylabel("MiB")
    latency.plot(t, col("p50_ms"), label="p50")
    latency.plot(t, col("p99_ms"), label="p99")
    latency.set_ylabel("ms (client side)")
    for name, label in [("http_5xx", "5xx"), ("transport_errors", "transport errors"), ("unexpected", "unexpected answers"),
                        ("bad_4xx", "bad inputs answered 4xx")]:
        errors.plot(t, col(name), label=label, marker=".")
    errors.set_ylabel("per window")
    errors.set_xlabel("minutes")
    for ax in (memory, latency, errors):
        for x in reloads:
            ax.axvline(x, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    memory.set_title("Soak (dotted: a hot reload)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)


if __name__ == "__main__":
    main(*sys.argv[1:3])
