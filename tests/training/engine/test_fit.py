"""The one fit loop: data order, hooks, and that a resumed run is step for step the uninterrupted one."""
import os

import numpy as np
import pytest
import torch

from keypoint_trainer.engine import schedules
from keypoint_trainer.engine.fit import Every, Hook, Sampler, StepLosses, WindowHistory, fit, upgrade_state
from keypoint_trainer.engine.seeding import seed_everything

X = torch.from_numpy(np.random.default_rng(0).normal(size=(10, 6)).astype(np.float32))
Y = torch.from_numpy(np.random.default_rng(1).normal(size=(10, 2)).astype(np.float32))


class EpochMean(Hook):
    """Records the running epoch loss at every epoch end (as the stick-figure trainer does)."""

    def init(self, state):
        state["epoch_losses"] = []

    def epoch_end(self, fit, epoch):
        fit.state["epoch_losses"].append(fit.state["loss_sum"] / fit.state["loss_count"])


def _run(out, sampler, steps=9, **kw):
    seed_everything(3)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(8, 2))
    evals = []

    def step_fn(idx, step):
        return torch.nn.functional.mse_loss(model(X[idx]), Y[idx]), {"n": float(len(idx))}

    hooks = [StepLosses(), WindowHistory(4), EpochMean(), Every(3, lambda f: evals.append(f.step))]
    run = fit(model, step_fn, optimizer=torch.optim.Adam(model.parameters(), lr=0.01), sampler=sampler, steps=steps,
              lr=schedules.warmup_cosine(0.01, steps, 2), out_dir=out, label="[t]", hooks=hooks,
              progress_interval=None, log=lambda *a: None, **kw)
    return run, model, evals


@pytest.mark.parametrize("sampler", [Sampler(10, 4, 5), Sampler(10, 4, 5, drop_last=True, sort=True)])
def test_a_resumed_run_is_the_uninterrupted_one(tmp_path, sampler):
    ref, ref_model, ref_evals = _run(tmp_path / "ref", sampler)
    assert ref.completed and ref.step == 9
    cut, _, _ = _run(tmp_path / "cut", sampler, stop_after_steps=5)
    assert not cut.completed and cut.step == 5 and (tmp_path / "cut" / "last.pth").is_file()
    resumed, model, evals = _run(tmp_path / "cut", sampler, resume=True)
    assert resumed.completed
    for k in ("curves", "history", "epoch_losses"):
        assert resumed.state[k] == ref.state[k], k
    for a, b in zip(model.state_dict().values(), ref_model.state_dict().values()):
        assert torch.equal(a, b)
    assert evals == [6, 9] and ref_evals == [3, 6, 9]


def test_sampler_order_is_a_pure_function_of_seed_and_epoch():
    s = Sampler(10, 4, 5)
    assert s.steps_per_epoch == 3 and Sampler(10, 4, 5, drop_last=True).steps_per_epoch == 2
    epoch0 = np.concatenate([s.indices(i) for i in range(3)])
    assert sorted(epoch0.tolist()) == list(range(10))
    assert np.array_equal(s.indices(4), Sampler(10, 4, 5).indices(4))
    assert not np.array_equal(s.indices(0), s.indices(3))  # another epoch, another order
    b = Sampler(10, 4, 5, sort=True).indices(1)
    assert np.array_equal(b, np.sort(b))


def test_without_out_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run, _, _ = _run(None, Sampler(10, 10, 0), steps=3)
    assert run.completed and list(tmp_path.iterdir()) == []


def test_checkpoints_of_the_replaced_loops_still_resume():
    stick = {"state": {"epoch": 1, "step_in_epoch": 1, "global_step": 3, "loss_sum": 1.5, "loss_count": 32,
                       "history": [], "wall_s": 4.0, "train_s": 3.0}}
    st = upgrade_state(stick, 2)
    assert st["step"] == 3 and st["epoch"] == 1 and "global_step" not in st
    spmkd = {"step": 5, "curves": {"train": [], "val": []}, "wall_s": 2.0}
    st = upgrade_state(spmkd, 2)
    assert st["step"] == 5 and st["epoch"] == 2 and st["step_in_epoch"] == 1 and st["curves"] == spmkd["curves"]
    multi = {"state": {"step": 4, "history": [], "train_s": 1.0, "wall_s": 1.0}}
    assert upgrade_state(multi, 3)["epoch"] == 1


def test_schedules():
    assert schedules.constant(0.1)(5) == 0.1
    assert schedules.cosine(1.0, 10)(0) == 1.0 and schedules.cosine(1.0, 10)(10) == pytest.approx(0.0)
    assert schedules.step_decay(1.0, [2, 4])(3) == pytest.approx(0.1)
    assert schedules.fraction_milestones(400, [0.8]) == [320]
    assert schedules.warmup_cosine(1.0, 100, 10)(0) == pytest.approx(0.1)
    assert schedules.warmup_cosine(1.0, 100, 10)(100) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        schedules.named("linear", 1.0, 10)


def test_a_second_process_cannot_train_in_a_busy_run_directory(tmp_path):
    from keypoint_trainer.engine.runlock import RunDirectoryBusy, run_lock

    out = tmp_path / "run"
    out.mkdir()
    with run_lock(out):  # another open file description: to flock, another process
        with pytest.raises(RunDirectoryBusy, match=rf"pid {os.getpid()}\) is training") as busy:
            _run(out, Sampler(10, 4, 5), stop_after_steps=2)
        assert busy.value.filename == str(out) and not (out / "last.pth").exists()
    run, _, _ = _run(out, Sampler(10, 4, 5), stop_after_steps=2)  # released: the directory is free again
    assert run.step == 2 and (out / "last.pth").is_file()
