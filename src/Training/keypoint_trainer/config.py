"""Run configuration: one TOML file per run (profiles in ``keypoint_trainer/configs/``).

``load_config("quick")`` loads the packaged profile ``configs/quick.toml``; a path loads that
file. A file may say ``extends = "full"`` to start from another profile. Overrides use
dotted keys: ``--set train.epochs=10 --set data.train=500`` (values parsed as TOML).
"""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any, Iterable

CONFIG_DIR = Path(__file__).parent / "configs"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def profile_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.is_file():
        return p
    q = CONFIG_DIR / f"{name_or_path}.toml"
    if q.is_file():
        return q
    raise FileNotFoundError(f"no config {name_or_path!r} (profiles: "
                            f"{sorted(x.stem for x in CONFIG_DIR.glob('*.toml'))})")


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ValueError(f"override {item!r} is not key=value")
    key, raw = item.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # bare string
    return key.strip().split("."), value


def apply_overrides(cfg: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    cfg = copy.deepcopy(cfg)
    for item in overrides or ():
        keys, value = parse_override(item)
        d = cfg
        for k in keys[:-1]:
            d = d.setdefault(k, {})
        d[keys[-1]] = value
    return cfg


def load_config(name_or_path: str | Path, overrides: Iterable[str] = ()) -> dict[str, Any]:
    path = profile_path(name_or_path)
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    parent = cfg.pop("extends", None)
    if parent:
        cfg = _merge(load_config(parent), cfg)
    cfg = apply_overrides(cfg, overrides)
    cfg.setdefault("_source", str(path))
    return cfg


def dumps_toml(cfg: dict[str, Any]) -> str:
    """Minimal TOML writer for provenance (tables, scalars, lists of scalars)."""
    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {fmt(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    lines: list[str] = []

    def emit(d: dict[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and not k.startswith("_")}
        tables = {k: v for k, v in d.items() if isinstance(v, dict)}
        if prefix and scalars:
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            lines.append(f"{k} = {fmt(v)}")
        if scalars:
            lines.append("")
        for k, v in tables.items():
            emit(v, f"{prefix}.{k}" if prefix else k)

    emit(cfg, "")
    return "\n".join(lines)
