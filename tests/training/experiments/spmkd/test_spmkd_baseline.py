"""The supervised baseline: validation joint curve and training to the validation-PCK plateau."""
import json

import numpy as np
import pytest

from keypoint_trainer.data.pressure import SLP_MAT, generate_dataset
from keypoint_trainer.experiments.spmkd.baseline import BaselineConfig, LabelledMaps, train_baseline

ROWS, COLS = SLP_MAT.rows, SLP_MAT.cols
PITCH = (100.0 * SLP_MAT.width_m / COLS, 100.0 * SLP_MAT.length_m / ROWS)


@pytest.fixture(scope="module")
def splits():
    train = generate_dataset(SLP_MAT, n_subjects=2, per_subject=4, seed=9)
    val = generate_dataset(SLP_MAT, n_subjects=1, per_subject=4, seed=19)
    return train, LabelledMaps(val["pressure"], val["joints"], ROWS, COLS, PITCH)


def _cfg(**kw):
    return BaselineConfig(**{"steps": 12, "batch_size": 4, "warmup": 1, "heatmap_size": 32,
                             "eval_every": 2, **kw})


def test_validation_joint_metrics_are_recorded(tmp_path, splits):
    train, val = splits
    s = train_baseline(tmp_path, _cfg(steps=4), train["pressure"], train["joints"], ROWS, COLS, val=val,
                       log=lambda *a: None)
    curve = json.loads((tmp_path / "curves.json").read_text())["val"]
    assert [e["step"] for e in curve] == [2, 4] and s["steps"] == 4 and "plateau" not in s
    assert all(0.0 <= e["pck_torso@0.2"] <= 1.0 and e["mean_err_cm"] > 0 for e in curve)
    assert s["final_val"] == curve[-1]


def test_the_baseline_stops_at_its_validation_plateau(tmp_path, splits):
    train, val = splits
    # min_delta 1.0: no evaluation after the first counts as an improvement, so with no rate drop
    # allowed the run stops at its second evaluation (step 4 of at most 12)
    s = train_baseline(tmp_path, _cfg(plateau_patience=1, plateau_drops=0, plateau_min_delta=1.0), train["pressure"],
                       train["joints"], ROWS, COLS, val=val, log=lambda *a: None)
    assert s["steps"] == 4 and s["max_steps"] == 12 and s["plateau"]["stopped_at"] == 4
    assert "pck_torso@0.2 at its plateau" in s["stop_reason"]


def test_a_plateau_needs_validation_data(tmp_path, splits):
    train, _ = splits
    with pytest.raises(ValueError, match="validation"):
        train_baseline(tmp_path, _cfg(plateau_patience=2), train["pressure"], train["joints"], ROWS, COLS,
                       log=lambda *a: None)
