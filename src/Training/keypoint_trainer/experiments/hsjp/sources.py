"""Unlabelled images for the HSJP pretext, as model inputs [M, 128, 128] in [0, 1].

* ``stick``: the stick-figure training split's images *without* their labels (the paper
  pretrains on the same person crops it later fine-tunes on) plus ``extra`` freshly generated
  figures (``data/stick/generator.py``, seed ``extra_seed``) that are never labelled;
* ``pressure``: simulated pressure maps (``data/pressure/``, the SPMKD splits) resized to
  128 x 128 (bilinear, docs/model-manifest.md) and divided by each map's maximum - used when
  the file exists, skipped with a message otherwise.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...core.preprocessing import resize_bilinear
from ...data.stick.generator import GeneratorConfig, render_sample


def stick_images(train_x, extra: int, extra_seed: int) -> np.ndarray:
    parts = [train_x[:, 0].numpy().astype(np.float32)] if train_x is not None else []
    if extra:
        g = GeneratorConfig()
        parts.append(np.stack([render_sample(extra_seed, i, g)[0] for i in range(extra)]).astype(np.float32) / 255.0)
    return np.concatenate(parts) if parts else np.zeros((0, 128, 128), np.float32)


def pressure_images(path: str, count: int, size: int = 128, log=print) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        log(f"[hsjp] pressure maps {p} not found: pretraining on stick figures only")
        return np.zeros((0, size, size), np.float32)
    from ...data.pressure import load_pressure_only

    maps = load_pressure_only(p)[:count]
    out = np.stack([resize_bilinear(np.asarray(m, np.float32), size, size) for m in maps])
    return (out / np.maximum(out.reshape(len(out), -1).max(1), 1e-6)[:, None, None]).astype(np.float32)


def unlabelled_pool(cfg: dict[str, Any], train_x, log=print) -> np.ndarray:
    pc = cfg["pretext"]
    pools = []
    if "stick" in pc.get("sources", ["stick"]):
        pools.append(stick_images(train_x, int(pc.get("extra_stick", 0)), int(pc.get("extra_seed", 5005))))
    if "pressure" in pc.get("sources", []):
        pools.append(pressure_images(pc["pressure_file"], int(pc.get("pressure_count", 1000)), log=log))
    pool = np.concatenate(pools)
    log(f"[hsjp] unlabelled pool: {len(pool)} images ({', '.join(pc.get('sources', ['stick']))})")
    return pool
