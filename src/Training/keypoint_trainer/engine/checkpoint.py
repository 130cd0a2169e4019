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
