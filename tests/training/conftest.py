"""Shared fixtures: a quick-profile config pointing into a temporary directory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src" / "Training"))


@pytest.fixture(scope="session", autouse=True)
def _threads():
    from keypoint_trainer.engine.threads import configure_threads

    configure_threads(int(os.environ.get("KEYPOINT_THREADS", "1")))


@pytest.fixture(scope="session")
def quick_cfg(tmp_path_factory):
    """The quick profile with data and runs under a session temp dir; data generated once."""
    from keypoint_trainer.core.config import load_config
    from keypoint_trainer.data.stick.splits import generate_splits

    base = tmp_path_factory.mktemp("quick")
    cfg = load_config("quick", [f'data.root="{base / "data"}"', f'run.out_dir="{base / "runs"}"',
                                f'ablate.out_dir="{base / "runs" / "ablate"}"'])
    generate_splits(cfg, log=lambda *a: None)
    return cfg


@pytest.fixture(scope="session")
def trained_quick(quick_cfg):
    """Heatmap and regression trained on the quick profile (2 epochs)."""
    from keypoint_trainer.experiments.stick.train import train_experiment

    logs = {n: train_experiment(quick_cfg, n, log=lambda *a: None) for n in ("heatmap", "regression")}
    return quick_cfg, logs
