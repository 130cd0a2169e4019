"""Finished ablation experiments kept in the repository (``[ablate] record``, a tracked folder).

A run directory under ``runs/`` does not survive a fresh checkout, and one converged ablation costs over an hour
of a core, so every finished experiment is also written to ``{record}/{name}.json``: its test entry (the one
``results.json`` holds) and its training log (validation curve, machine, threads), a few kB. ``ablate`` skips
a recorded experiment and the report reads the record where the run directory lacks it; delete the file to
train that experiment again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ...core.manifest import write_json
from ...engine.report import read_json


def record_dir(cfg: dict[str, Any]) -> Optional[Path]:
    folder = cfg.get("ablate", {}).get("record") or ""
    return Path(folder) if folder else None


def read_record(cfg: dict[str, Any], name: str) -> Optional[dict[str, Any]]:
    """``{"entry": ..., "training_log": ...}`` of a recorded experiment, or None."""
    folder = record_dir(cfg)
    return read_json(folder / f"{name}.json") if folder else None


def write_record(cfg: dict[str, Any], name: str, entry: dict[str, Any], training_log: dict[str, Any]) -> Optional[Path]:
    folder = record_dir(cfg)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    write_json(path, {"entry": entry, "training_log": training_log})
    return path


def record_finished(cfg: dict[str, Any], entries: dict[str, Any], run_dir: Path) -> list[str]:
    """Records every experiment with a test entry and a completed training log in ``run_dir`` that the
    record lacks (runs started before the record existed); returns their names."""
    added = []
    for name, entry in entries.items():
        log = read_json(run_dir / name / "training_log.json")
        if log and log.get("completed") and read_record(cfg, name) is None and write_record(cfg, name, entry, log):
            added.append(name)
    return added
