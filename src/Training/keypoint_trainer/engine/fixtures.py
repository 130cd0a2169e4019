"""Fixtures: small seeded models in the exact published store layout, for the C# tests.

``python3 -m keypoint_trainer fixtures --out DIR`` writes ``DIR/<name>/1/{model.onnx,
manifest.json,golden.json}`` for every registered fixture (or those given with ``--only``).
A builder (``core/registry.py: register_fixture``) is ``builder(out_dir, *, name, version, seed)``:
it writes the model files and a schema-valid ``manifest.json`` into ``out_dir``, a temporary
staging directory, which is then published atomically into ``DIR/<name>/<version>``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Mapping, Optional

from ..core.registry import Fixture
from .publish import publish_staged, staging_dir


def build_fixtures(fixtures: Mapping[str, Fixture], out: Path, names: Optional[Iterable[str]] = None, *,
                   seed: int = 0, version: str = "1", replace: bool = True, log=print) -> list[Path]:
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
