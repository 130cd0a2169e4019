"""Run configuration of every family: one TOML file per run, one loader.

Profiles ship in ``keypoint_trainer/configs/<family>/`` (``stick``, ``spmkd``, ``multi``,
``hsjp``; each has ``quick`` and ``full``). ``load_config("quick", family="multi")`` loads
``configs/multi/quick.toml``; a path loads that file. A file may say ``extends = "full"`` to
start from another profile of its family (``default_extends`` supplies one for files that
do not say it). Overrides use dotted keys: ``--set train.epochs=10 --set data.train=500``
(values parsed as TOML). ``run.name`` names the profile (default: the file's stem);
``_source`` records the file.
"""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any, Iterable, Optional
from .errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
FAMILIES = ("stick", "spmkd", "multi", "hsjp")


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else in ``over`` replaces ``base``."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def family_dir(family: str) -> Path:
    if family not in FAMILIES:
        raise KeyError(f"unknown config family {family!r} ({', '.join(FAMILIES)})")
    return CONFIG_DIR / family


def profile_path(name_or_path: str | Path, family: str = "stick") -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.is_file():
        return p
    d = family_dir(family)
    q = d / f"{name_or_path}.toml"
    if q.is_file():
        return q
    raise FileNotFoundError(f"no config {name_or_path!r} (profiles of {family}: "
                            f"{sorted(x.stem for x in d.glob('*.toml'))})")


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not key=value")
    key, raw = item.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # bare string
    return key.strip().split("."), value


def _kind(v: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(v), type(v).__name__)


def _fits(old: Any, new: Any) -> bool:
    """A ``--set`` value may replace a profile value of the same TOML type (an integer where a number is)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, float):
        return isinstance(new, (int, float))
    return isinstance(new, type(old))


def apply_overrides(cfg: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``--set key=value`` items over ``cfg``. A value of another type than the profile's (``steps=abc``,
    ``data.root=1``) is refused here, in one line, rather than failing as a traceback deep in a run; keys
    the profile lacks are taken as given (the code that reads them checks them)."""
    cfg = copy.deepcopy(cfg)
    for item in overrides or ():
        keys, value = parse_override(item)
        d = cfg
        for k in keys[:-1]:
            d = d.setdefault(k, {})
            if not isinstance(d, dict):
                raise ConfigError(f"--set {item!r}: {k!r} is not a table in the profile")
        old = d.get(keys[-1])
        if old is not None and not _fits(old, value):
            raise ConfigError(f"--set {item!r}: {'.'.join(keys)} is {_kind(old)} in the profile ({old!r}), "
                              f"not {_kind(value)}")
        d[keys[-1]] = value
    return cfg


def load_config(name_or_path: str | Path = "quick", overrides: Iterable[str] = (), *, family: str = "stick",
                default_extends: Optional[str] = None) -> dict[str, Any]:
    """Profile or path -> config dict (``extends`` chain merged, then ``overrides``)."""
    path = profile_path(name_or_path, family)
    with open(path, "rb") as f:
        own = tomllib.load(f)
    cfg = copy.deepcopy(own)
    parent = cfg.pop("extends", None) or (default_extends if path.stem != default_extends else None)
    if parent:
        cfg = merge(load_config(parent, family=family), cfg)
    if "name" not in own.get("run", {}):
        cfg.setdefault("run", {})["name"] = path.stem
    cfg = apply_overrides(cfg, overrides)
    cfg["_source"] = str(path)
    return cfg


def report_path(cfg: dict[str, Any], given: Optional[Path] = None) -> Path:
    """Where a report goes: ``--report``, else the profile's ``[report] path``. A profile without one (the
    quick profiles: smoke runs) needs ``--report``, so it cannot overwrite a committed report."""
    path = given or cfg.get("report", {}).get("path")
    if not path:
        raise ConfigError(f"profile {cfg['run']['name']!r} names no report path ([report] path): give --report FILE")
    return Path(path)


def check_selection(given: Optional[Iterable[str]], known: Iterable[str], what: str = "run") -> None:
    """``--only`` / ``--model`` names must be the profile's: a typo would otherwise select nothing and
    exit 0, or fail later with a path that does not say why."""
    known = list(known)
    unknown = [n for n in (given or ()) if n not in known]
    if unknown:
        raise ConfigError(f"unknown {what} {', '.join(map(repr, unknown))}; this profile has: {', '.join(known)}")


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
