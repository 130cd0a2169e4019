"""Beyond-seed training options: fresh images every epoch and the cosine learning rate."""
import math

import numpy as np
import pytest
import torch

from keypoint_trainer.experiments.stick.plan import get_experiment
from keypoint_trainer.data.stick.fresh import FreshEpochs, render_epoch
from keypoint_trainer.data.stick.dataset import load_split
from keypoint_trainer.experiments.stick.train import learning_rate, train_experiment
from keypoint_trainer.models.factory import build_codec


def test_constant_schedule_is_the_seed_rate():
    assert [learning_rate(1e-3, "constant", s, 100) for s in (0, 50, 99)] == [1e-3] * 3


def test_cosine_schedule_decays_from_base_to_zero():
    assert learning_rate(1e-3, "cosine", 0, 100) == pytest.approx(1e-3)
    assert learning_rate(1e-3, "cosine", 50, 100) == pytest.approx(5e-4)
    assert learning_rate(1e-3, "cosine", 25, 100) == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert learning_rate(1e-3, "cosine", 100, 100) == pytest.approx(0.0, abs=1e-12)
    rates = [learning_rate(1e-3, "cosine", s, 100) for s in range(101)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_step_schedule_drops_tenfold_at_each_milestone():
    rates = [learning_rate(1e-3, "step", s, 100, milestones=(60, 90)) for s in (0, 59, 60, 89, 90, 99)]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5])


def test_step_experiment_is_heatmap_fresh_90_until_its_first_milestone(quick_cfg):
    """heatmap_fresh_90_step is heatmap_fresh_90 until its first milestone, so a constant-rate
    checkpoint from before that epoch continues it step for step."""
    spec = get_experiment(quick_cfg, "heatmap_fresh_90_step")
    base = get_experiment(quick_cfg, "heatmap_fresh_90")
    assert {k: v for k, v in spec.items() if k not in ("lr_schedule", "lr_milestones", "description", "name")} \
        == {k: v for k, v in base.items() if k not in ("description", "name")}
    assert spec["lr_milestones"] == [75, 85] and spec["epochs"] == 90


def test_trainer_counts_step_milestones_in_epochs(quick_cfg, tmp_path):
    cfg = {**quick_cfg, "experiments": {"heatmap_fresh_90_step": {"epochs": 2, "lr_milestones": [1]}}}
    lg = train_experiment(cfg, "heatmap_fresh_90_step", out_dir=tmp_path, log=lambda *a: None)
    assert lg["completed"] and len(lg["history"]) == 2
    # the last step of epoch 2 ran at 0.1x the base rate; epoch 1 at the base rate
    last = torch.load(tmp_path / "last.pth")["optimizer"]["param_groups"][0]["lr"]
    assert last == pytest.approx(0.1 * lg["lr"])
    cfg["experiments"]["heatmap_fresh_90_step"]["lr_milestones"] = [2]
    lg = train_experiment(cfg, "heatmap_fresh_90_step", out_dir=tmp_path / "late", log=lambda *a: None)
    assert torch.load(tmp_path / "late" / "last.pth")["optimizer"]["param_groups"][0]["lr"] == pytest.approx(lg["lr"])


def test_unknown_schedule_is_an_error():
    with pytest.raises(ValueError, match="lr_schedule"):
        learning_rate(1e-3, "linear", 0, 10)
    with pytest.raises(ValueError, match="lr_milestones"):
        learning_rate(1e-3, "step", 0, 10)


@pytest.mark.parametrize("name", ["heatmap_fresh_cosine", "regression"])
def test_rendered_epoch_zero_equals_the_stored_split(quick_cfg, name):
    """The renderer builds tensors exactly as KeypointDataset does from the written PNG files."""
    spec = get_experiment(quick_cfg, name)
    codec = build_codec(spec)
    x, y, _ = load_split(quick_cfg, "train", codec)
    rx, ry = render_epoch(int(quick_cfg["data"]["seeds"]["train"]), 0, len(x), quick_cfg.get("generator", {}), codec)
    assert np.array_equal(rx, x.numpy())
    assert np.allclose(ry, y.numpy(), atol=1e-6)


def test_later_epochs_are_new_images_and_reproducible(quick_cfg):
    spec = get_experiment(quick_cfg, "heatmap_fresh_cosine")
    codec = build_codec(spec)
    stored = load_split(quick_cfg, "train", codec)[:2]
    n = len(stored[0])
    fresh = FreshEpochs(quick_cfg, codec, n, stored, prefetch=False)
    e0, e1, e1_again = fresh.get(0, 3), fresh.get(1, 3), fresh.get(1, 3)
    fresh.close()
    assert e0[0] is stored[0]
    assert e1[0].shape == stored[0].shape and e1[1].shape == stored[1].shape
    assert not torch.equal(e1[0], e0[0])
    assert torch.equal(e1[0], e1_again[0]) and torch.equal(e1[1], e1_again[1])
    # epoch 1 is images n .. 2n-1 of the same stream
    rx, _ = render_epoch(int(quick_cfg["data"]["seeds"]["train"]), n, 1, quick_cfg.get("generator", {}), codec)
    assert np.array_equal(rx[0], e1[0][0].numpy())


def test_fresh_cosine_run_resumes_to_identical_results(quick_cfg, tmp_path):
    """Killed in the middle of a rendered epoch (epoch 2), resumed: same losses and weights."""
    quiet = dict(log=lambda *a: None)
    ref = train_experiment(quick_cfg, "heatmap_fresh_cosine", out_dir=tmp_path / "ref", **quiet)
    assert ref["completed"] and len(ref["history"]) == 2
    steps = ref["steps_per_epoch"]
    assert train_experiment(quick_cfg, "heatmap_fresh_cosine", out_dir=tmp_path / "cut",
                            stop_after_steps=steps + 1, **quiet) is None
    lg = train_experiment(quick_cfg, "heatmap_fresh_cosine", out_dir=tmp_path / "cut", resume=True, **quiet)
    assert [(h["train_loss"], h["val_loss"]) for h in lg["history"]] == \
           [(h["train_loss"], h["val_loss"]) for h in ref["history"]]
    a = torch.load(tmp_path / "cut" / "heatmap_fresh_cosine_model.pth")["model"]
    b = torch.load(tmp_path / "ref" / "heatmap_fresh_cosine_model.pth")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


_ORPHAN_SCRIPT = """
import sys, time
from keypoint_trainer.codecs.heatmap import HeatmapCodec
from keypoint_trainer.data.stick.fresh import FreshEpochs
cfg = {"data": {"seeds": {"train": 7}}, "generator": {}}
fresh = FreshEpochs(cfg, HeatmapCodec(), 5000, (None, None))
fresh.get(0, 3)  # starts rendering epoch 1 (5,000 images: far longer than this test waits)
print(next(iter(fresh._pool._processes)), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line for line in f)
    except FileNotFoundError:
        return False


def test_render_worker_exits_when_the_trainer_is_killed():
    import os
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    trainer = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    worker = None
    try:
        worker = int(trainer.stdout.readline())
        time.sleep(1.0)
        assert _alive(worker)
        trainer.send_signal(signal.SIGKILL)  # no shutdown code runs in the trainer
        trainer.wait(10)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the render worker outlived its trainer"
    finally:
        trainer.kill()
        if worker is not None and _alive(worker):
            os.kill(worker, signal.SIGKILL)
