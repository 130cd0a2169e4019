"""Fault injection: the trainer process is SIGKILLed during training and resumed (docs/reliability.md).

A real ``python3 -m keypoint_trainer train`` subprocess (RegressionNet: dropout, so the RNG state
matters) is killed with SIGKILL as soon as its first checkpoint lands, then run again with
``--resume``; its losses and final weights must equal those of an uninterrupted run (in-process,
same profile), bit for bit.
(test_end_to_end.py's resume test stops in-process with ``stop_after_steps``; this one kills.)
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from keypoint_trainer.core.config import load_config
from keypoint_trainer.experiments.stick.train import train_experiment

ROOT = Path(__file__).resolve().parents[3]
EPOCHS = 3  # quick profile: 64 images, batch 32, a checkpoint every step -> 6 steps


def _overrides(cfg, out_dir: Path) -> list[str]:
    return [f'data.root="{cfg["data"]["root"]}"', f'run.out_dir="{out_dir}"', f"train.epochs={EPOCHS}"]


def _train(cfg, out_dir: Path, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "keypoint_trainer", "train", "--config", "quick", "--model", "regression", *extra]
    for o in _overrides(cfg, out_dir):
        args += ["--set", o]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src" / "Training"))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)


def _finish(p: subprocess.Popen) -> str:
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out
    return out


def _history(run: Path):
    ck = torch.load(run / "last.pth")
    return [(h["train_loss"], h["val_loss"]) for h in ck["state"]["history"]]


def test_sigkilled_training_resumes_to_the_uninterrupted_result(quick_cfg, tmp_path):
    reference = tmp_path / "reference"
    train_experiment(load_config("quick", _overrides(quick_cfg, reference)), "regression", log=lambda *a: None)

    killed = tmp_path / "killed"
    checkpoint = killed / "regression" / "last.pth"
    p = _train(quick_cfg, killed)
    deadline = time.monotonic() + 240  # a guard against a hang, not a timing assertion
    while not checkpoint.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL, f"the trainer was not killed mid-run (exit {p.returncode}):\n{out}"
    step = torch.load(checkpoint)["state"]["step"]
    assert 0 < step < EPOCHS * 2, step  # killed with training left to do

    out = _finish(_train(quick_cfg, killed, "--resume"))
    assert "resumed from" in out, out
    assert _history(killed / "regression") == _history(reference / "regression")
    a = torch.load(killed / "regression" / "regression_model.pth")["model"]
    b = torch.load(reference / "regression" / "regression_model.pth")["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
