#!/usr/bin/env python3
"""Print the markdown tables of training reports with wall-clock columns masked, for diffing.

Two reports of the same runs (same seeds, one torch thread) must agree in every number; only
the measured times differ. Columns whose header names a time (``wall``, ``time``, ``s / step``,
``s/step``) are printed as ``~``. Usage (docs/training.md, "Checking a refactoring")::

    diff <(scripts/report-tables.py before/report.md) <(scripts/report-tables.py after/report.md)
"""
import re
import sys

TIME_HEADER = re.compile(r"wall|time|s ?/ ?step", re.IGNORECASE)


def tables(text: str):
    """-> lists of rows (cells) of every table in ``text``."""
    block = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            yield block
            block = []


def masked(table):
    timed = {i for i, h in enumerate(table[0]) if TIME_HEADER.search(h)}
    return [[("~" if i in timed and r > 1 else c) for i, c in enumerate(row)] for r, row in enumerate(table)]


def main(paths) -> int:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for t in tables(f.read()):
                for row in masked(t):
                    print("| " + " | ".join(row) + " |")
                print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
