"""CRWT stages: losses, weight transfer, exact resume, and that training reads pressure only."""
import json

import numpy as np
import pytest
import torch

from keypoint_trainer.data.pressure import SLP_MAT, generate_dataset
from keypoint_trainer.models.efd import ModelConfig
from keypoint_trainer.experiments.spmkd.train import TrainConfig, lr_at, stage_loss, train_crwt, train_stage

TINY = ModelConfig(num_keypoints=3, feature_dim=2, fc_hidden=16, dec_channels=(4, 4, 4, 4))


@pytest.fixture(scope="module")
def maps():
    return generate_dataset(SLP_MAT, n_subjects=2, per_subject=4, seed=9)["pressure"]


def _cfg(**kw):
    base = dict(model=TINY, stage1_steps=2, stage2_steps=2, batch_size=2, eval_every=2, warmup=1)
    base.update(kw)
    return TrainConfig(**base)


def test_stage_losses():
    x = torch.rand(2, 1, 32, 32)
    big = torch.full_like(x, 50.0)
    l1, p1 = stage_loss(1, torch.where(x > 0.03, big, -big), x, _cfg())
    assert float(l1) < 1e-6 and "bce" in p1
    logit = torch.logit(x.clamp(1e-4, 1 - 1e-4))
    l2, p2 = stage_loss(2, logit, x.clamp(1e-4, 1 - 1e-4), _cfg())
    assert float(l2) == pytest.approx(0.0, abs=1e-4) and p2["ssim"] == pytest.approx(1.0, abs=1e-4)


def test_lr_schedule():
    assert lr_at(0, 100, 1.0, 10) == pytest.approx(0.1)
    assert lr_at(10, 100, 1.0, 10) == pytest.approx(1.0)
    assert lr_at(100, 100, 1.0, 10) == pytest.approx(0.05)


def test_crwt_transfers_stage1_weights(tmp_path, maps):
    s = train_crwt(tmp_path / "run", _cfg(), maps, maps[:2], log=lambda *a: None)
    assert s["stage1"]["steps"] == 2 and s["stage2"]["steps"] == 2
    curves = json.loads((tmp_path / "run" / "stage2" / "curves.json").read_text())
    s1_end = json.loads((tmp_path / "run" / "stage1" / "curves.json").read_text())["val"][-1]
    # stage 2 starts exactly where stage 1 ended (same weights, same validation maps)
    assert curves["val"][0]["step"] == 0
    assert curves["val"][0]["bce"] == pytest.approx(s1_end["bce"], rel=1e-5)
    scratch = train_crwt(tmp_path / "scratch", _cfg(init="scratch"), maps, maps[:2], log=lambda *a: None)
    assert scratch["stage1"] is None
    sc = json.loads((tmp_path / "scratch" / "stage2" / "curves.json").read_text())
    assert sc["val"][0]["bce"] != pytest.approx(s1_end["bce"], rel=1e-3)


def test_resume_is_exact(tmp_path, maps):
    cfg = _cfg(stage2_steps=4, eval_every=2)
    full = train_stage(tmp_path / "a", 2, cfg, maps, maps[:2], log=lambda *a: None)
    assert train_stage(tmp_path / "b", 2, cfg, maps, maps[:2], stop_after_steps=2, log=lambda *a: None) is None
    resumed = train_stage(tmp_path / "b", 2, cfg, maps, maps[:2], log=lambda *a: None)
    wa = torch.load(tmp_path / "a" / "final.pth")
    wb = torch.load(tmp_path / "b" / "final.pth")
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert full["final_val"] == resumed["final_val"]
    # a finished stage is skipped
    assert train_stage(tmp_path / "b", 2, cfg, maps, maps[:2], log=lambda *a: None)["steps"] == 4


def test_spmkd_training_never_reads_labels(tmp_path, monkeypatch):
    """The pipeline's SPMKD runs go through load_pressure_only; a dataset file holding only
    ``pressure`` suffices, and the label loader is never called."""
    from keypoint_trainer.experiments.spmkd import pipeline

    d = generate_dataset(SLP_MAT, n_subjects=1, per_subject=4, seed=21)
    paths = {}
    for split in ("train", "val"):
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(paths[split], pressure=d["pressure"])  # no joints, no posture

    def boom(*a, **k):
        raise AssertionError("labels must not be loaded for SPMKD training")

    monkeypatch.setattr(pipeline, "load_dataset", boom)
    prof = pipeline.get_profile("quick", {"stage1_steps": 1, "stage2_steps": 1, "batch_size": 2, "k_main": 2})
    monkeypatch.setattr(pipeline, "_train_cfg", lambda p, k, init="crwt", fuser="soft", stage2_steps=None: _cfg(
        stage1_steps=1, stage2_steps=stage2_steps or 1, init=init, model=ModelConfig(
            num_keypoints=k, feature_dim=2, fc_hidden=16, dec_channels=(4, 4, 4, 4), fuser=fuser)))
    out = pipeline.train_all(prof, tmp_path / "runs", paths, only=["main", "scratch", "hard"], log=lambda *a: None)
    assert set(out["summaries"]) == {"main", "scratch", "hard"}


def test_heatmap_spread():
    from keypoint_trainer.experiments.spmkd.train import heatmap_spread

    p = torch.zeros(1, 1, 4, 4)
    p[0, 0, 1, 2] = 1.0
    assert float(heatmap_spread(p)) == pytest.approx(0.0, abs=1e-7)
    u = torch.full((1, 1, 4, 4), 1 / 16)
    var = float(((torch.arange(4) + 0.5) / 4).var(unbiased=False))
    assert float(heatmap_spread(u)) == pytest.approx(2 * var, rel=1e-5)
