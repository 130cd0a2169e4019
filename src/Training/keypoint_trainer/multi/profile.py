"""Profiles of the ``multi`` and ``hsjp`` plug-ins: ``{package}/configs/full.toml`` with
``quick.toml`` (or any .toml path) merged on top, then ``--set key=value`` overrides."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Iterable

from ..config import _merge, apply_overrides


def load_profile(config_dir: Path, profile: str, overrides: Iterable[str] = ()) -> dict[str, Any]:
    with open(Path(config_dir) / "full.toml", "rb") as f:
        cfg = tomllib.load(f)
    if profile != "full":
        path = Path(profile) if str(profile).endswith(".toml") else Path(config_dir) / f"{profile}.toml"
        with open(path, "rb") as f:
            cfg = _merge(cfg, tomllib.load(f))
    cfg = apply_overrides(cfg, overrides)
    cfg["profile"] = str(profile)
    return cfg
