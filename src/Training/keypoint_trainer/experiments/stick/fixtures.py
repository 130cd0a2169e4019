"""Built-in fixtures: seeded, untrained ``heatmap`` and ``regression`` stick-figure models.

They have the exact published layout and real golden samples (synthetic stick figures), so
the C# tests exercise the whole path (manifest, sha256, pre-processing incl. one resized
input, ONNX Runtime, decoding) without a trained model. Metrics are absent on purpose.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...core.provenance import versions
from ...data.stick.generator import GeneratorConfig, render_sample
from ...engine.export import resized_variant, write_codec_export
from ...models.factory import build_model

FIXTURE_DATA_SEED = 4242


def _candidates(n: int = 24):
    g = GeneratorConfig()
    cands, gts = [], {}
    for i in range(n):
        img, kp, _ = render_sample(FIXTURE_DATA_SEED, i, g)
        sid = f"fixture-{i:04d}"
        cands.append((sid, img.astype(np.float32)))
        gts[sid] = kp
        if i == 0:
            rid = "fixture-0000-resized-200x150"
            cands.append((rid, resized_variant(img)))
            gts[rid] = kp * np.array([200 / 128, 150 / 128])
    return cands, gts


def _build(model, out_dir: Path, name: str, version: str, seed: int, what: str) -> None:
    cands, gts = _candidates()
    write_codec_export(model, out_dir, name=name, version=version, candidates=cands, golden_count=3,
                       ground_truth=gts, description=f"FIXTURE: untrained {what} (seed {seed}) for service tests",
                       training={"fixture": True, "trained": False, "seed": seed, "data_seed": FIXTURE_DATA_SEED,
                                 "command": f"python3 -m keypoint_trainer fixtures --seed {seed}",
                                 "versions": versions()})


def build_heatmap_fixture(out_dir: Path, *, name: str = "heatmap", version: str = "1", seed: int = 0) -> None:
    torch.manual_seed(seed)
    model = build_model({"kind": "heatmap", "heatmap_size": 64, "sigma": 2.0, "decode": "dark"}).eval()
    _build(model, out_dir, name, version, seed, "HeatmapNet")


def build_regression_fixture(out_dir: Path, *, name: str = "regression", version: str = "1", seed: int = 0) -> None:
    torch.manual_seed(seed)
    model = build_model({"kind": "regression"}).eval()
    _build(model, out_dir, name, version, seed, "RegressionNet")
