"""Fixture registry: small seeded models in the exact published store layout, for C# tests.

``python3 -m keypoint_trainer fixtures --out DIR`` writes ``DIR/<name>/1/{model.onnx,
manifest.json,golden.json}`` for every registered fixture (or those given with ``--only``).

Register a fixture from another module (e.g. ``keypoint_trainer/spmkd/plugin.py``)::

    from keypoint_trainer.fixtures import register_fixture
    register_fixture("spmkd", build_spmkd_fixture)

A builder is ``builder(out_dir: Path, *, name: str, version: str, seed: int) -> None``; it
writes the model files and a schema-valid ``manifest.json`` (``name``/``version`` as given)
into ``out_dir``, which is a temporary staging directory; the registry then publishes it
atomically into ``DIR/<name>/<version>``.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

Builder = Callable[..., None]


@dataclass
class Fixture:
    name: str
    builder: Builder
    help: str = ""


_FIXTURES: dict[str, Fixture] = {}
_BUILTINS_LOADED = False


def register_fixture(name: str, builder: Builder, help: str = "", *, replace: bool = False) -> Fixture:
    if name in _FIXTURES and not replace:
        raise ValueError(f"fixture {name!r} is already registered")
    fx = Fixture(name, builder, help)
    _FIXTURES[name] = fx
    return fx


def registered_fixtures() -> dict[str, Fixture]:
    _load_builtins()
    return dict(_FIXTURES)


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("keypoint_trainer.export.fixtures_builtin")


def build_fixtures(out: Path, names: Optional[Iterable[str]] = None, *, seed: int = 0,
                   version: str = "1", replace: bool = True, log=print) -> list[Path]:
    from .export.publish import publish_staged, staging_dir

    fixtures = registered_fixtures()
    selected = list(names) if names else sorted(fixtures)
    unknown = [n for n in selected if n not in fixtures]
    if unknown:
        raise KeyError(f"unknown fixtures {unknown}; known: {sorted(fixtures)}")
    out = Path(out)
    written = []
    for name in selected:
        t0 = time.monotonic()
        stage = staging_dir(out, name, version)
        fixtures[name].builder(stage, name=name, version=version, seed=seed)
        final = publish_staged(stage, out, name, version, replace=replace)
        written.append(final)
        log(f"fixture {name}: {final} ({time.monotonic() - t0:.1f}s)")
    return written
