"""Data-parallel training (engine/distributed.py, scripts/train-distributed.sh): two processes on
loopback with the gloo backend follow the one-process loss curve of the same global batches."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from keypoint_trainer.engine.distributed import Distributed, from_environment

ROOT = Path(__file__).resolve().parents[3]


def test_one_process_unless_the_environment_describes_a_group():
    assert from_environment({}) == Distributed()
    assert from_environment({"WORLD_SIZE": "1"}).enabled is False
    with pytest.raises(SystemExit, match="MASTER_PORT"):
        from_environment({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1"})


def test_ranks_take_strided_shares_of_the_global_batch():
    batch = list(range(7))
    assert Distributed(0, 2).shard(batch) == [0, 2, 4, 6]
    assert Distributed(1, 2).shard(batch) == [1, 3, 5]
    assert Distributed().shard(batch) == batch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(tmp: Path, data_root: Path, nproc: int, epochs: int = 3) -> list[dict]:
    out = tmp / f"runs{nproc}"
    args = ["train", "--config", "quick", "--model", "regression_l1",
            "--set", f'data.root="{data_root}"', "--set", f'run.out_dir="{out}"', "--set", f"train.epochs={epochs}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src" / "Training")}
    if nproc == 1:
        cmd = ["/usr/bin/python3", "-m", "keypoint_trainer", *args, "--set", "run.threads=1"]
    else:
        cmd = [str(ROOT / "scripts" / "train-distributed.sh"), "--nproc", str(nproc), "--port", str(_free_port()), "--", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "regression_l1" / "training_log.json").read_text())["history"]


def test_two_processes_follow_the_one_process_loss_curve(quick_cfg, tmp_path):
    data_root = Path(quick_cfg["data"]["root"])
    one, two = _train(tmp_path, data_root, 1), _train(tmp_path, data_root, 2)
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):
        # same global batches and averaged gradients; only BatchNorm sees half a batch per rank
        # (measured: within 0.3 % over 3 epochs)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.02)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=0.02)
    assert two[-1]["train_loss"] < two[0]["train_loss"]   # and it learns
    # the second rank really ran, in its own directory
    assert (tmp_path / "runs2" / "regression_l1" / "ranks" / "1" / "training_log.json").is_file()
