"""The report kit: a family's report is a list of sections rendered in order.

A section is a function ``section(ctx) -> list[str]`` of markdown lines (an empty list leaves
it out); ``ctx`` is whatever the family reads its numbers from (its run directory's files).
Every number in a report comes from those files, never typed in. The kit holds what sections
share: tables, number formats, durations, figures and the provenance block.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from .progress import format_duration

Section = Callable[[Any], list[str]]

__all__ = ["Section", "render", "write_report", "heading", "row", "table", "num", "pct", "minutes", "format_duration",
           "read_json", "figure", "provenance_lines"]


def render(sections: Sequence[Section], ctx: Any) -> str:
    lines: list[str] = []
    for section in sections:
        lines.extend(section(ctx))
    return "\n".join(lines) + "\n"


def write_report(path: Path, sections: Sequence[Section], ctx: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(sections, ctx), encoding="utf-8")
    return path


def heading(title: str, level: int = 2) -> list[str]:
    """A section's first lines: the heading and a blank line."""
    return ["#" * level + " " + title, ""]


def row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(head: Sequence[Any], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A markdown table: the header, its rule and one line per row."""
    return [row(head), row(["---"] * len(head)), *(row(r) for r in rows)]


def num(v: Optional[float], nd: int = 3, missing: str = "–") -> str:
    return missing if v is None else f"{v:.{nd}f}"


def pct(v: Optional[float], nd: int = 1, missing: str = "–", unit: str = "") -> str:
    """A fraction as a percentage (``unit=" %"`` appends the sign)."""
    return missing if v is None else f"{100 * v:.{nd}f}{unit}"


def minutes(s: Optional[float], missing: str = "n/a") -> str:
    """Seconds as ``12 s`` below 90 s, else ``1.5 min``."""
    if s is None:
        return missing
    s = float(s)
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def read_json(path: Path) -> Optional[Any]:
    return json.loads(Path(path).read_text()) if Path(path).is_file() else None


def figure(src: Path, dst_dir: Path, caption: str) -> list[str]:
    """Copy a figure next to the report and show it with its caption (or say it is missing)."""
    src, dst_dir = Path(src), Path(dst_dir)
    if not src.is_file():
        return [f"_{caption}: missing._", ""]
    dst_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst_dir / src.name)
    return [f"**{caption}**", "", f"![{caption}]({dst_dir.name}/{src.name})", ""]


def provenance_lines(machine: dict[str, Any], versions: dict[str, Any], commit: Optional[str]) -> list[str]:
    """Machine, software and code version of a run, one bullet each."""
    return [f"* Machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('memory_gib')} GiB, "
            f"torch threads {machine.get('torch_threads')}.",
            f"* Software: Python {versions.get('python')}, PyTorch {versions.get('torch')}, NumPy "
            f"{versions.get('numpy')}, ONNX {versions.get('onnx')}. Code: git `{(commit or 'unknown')[:12]}`."]
