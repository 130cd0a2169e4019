"""Checkpoint files: atomic save (temp + os.replace), load, find the latest."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    import torch

    return torch.load(Path(path), map_location="cpu")


def latest_checkpoint(directory: Path, name: str = "last.pth") -> Optional[Path]:
    p = Path(directory) / name
    return p if p.is_file() else None


def restore_training_state(path: Path, model, optimizer) -> tuple[int, dict, float]:
    """Loads model, optimizer and RNG state from a step-based checkpoint written with keys
    model/optimizer/step/curves/rng[/wall_s]; returns (step, curves, wall seconds so far)."""
    from .seeding import set_rng_state

    ck = load_checkpoint(path)
    model.load_state_dict(ck["model"])
    optimizer.load_state_dict(ck["optimizer"])
    set_rng_state(ck["rng"])
    return ck["step"], ck["curves"], ck.get("wall_s", 0.0)
