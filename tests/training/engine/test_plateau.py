"""Training to the validation plateau: rate drops, then a stop, decided from fit state (resume-exact)."""
import pytest
import torch

from keypoint_trainer.engine import schedules
from keypoint_trainer.engine.fit import Hook, Sampler, fit
from keypoint_trainer.engine.plateau import Plateau
from keypoint_trainer.engine.seeding import seed_everything


class ScriptedValidation(Hook):
    """Appends ``curves["val"]`` entries from a script: value of evaluation i every ``every`` steps."""

    def __init__(self, values, every=2):
        self.values, self.every = values, every

    def init(self, state):
        state.setdefault("curves", {})["val"] = []

    def after_step(self, fit, loss, parts):
        if fit.step % self.every == 0:
            i = len(fit.state["curves"]["val"])
            fit.state["curves"]["val"].append({"step": fit.step, "l2": self.values[min(i, len(self.values) - 1)]})


def _run(out, values, steps=40, **kw):
    seed_everything(0)
    model = torch.nn.Linear(3, 1)
    x, lrs = torch.ones(8, 3), []
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step_fn(idx, step):
        lrs.append(opt.param_groups[0]["lr"])
        return model(x[idx]).pow(2).mean(), {}

    run = fit(model, step_fn, optimizer=opt, sampler=Sampler(8, 4, 0), steps=steps, lr=schedules.constant(0.1),
              out_dir=out, label="[p]", hooks=[ScriptedValidation(values), Plateau("l2", patience=2, drops=1)],
              progress_interval=None, log=lambda *a: None, **kw)
    return run, lrs


# evaluations at steps 2, 4, ...: improves to 0.5 at step 6, then flat -> drop after steps 8, 10;
# improves again at 12, flat -> stop after steps 14, 16
VALUES = [1.0, 0.8, 0.5, 0.5, 0.499, 0.3, 0.3, 0.3, 0.3, 0.3]


def test_the_rate_drops_at_a_plateau_and_the_run_stops_at_the_next(tmp_path):
    run, lrs = _run(tmp_path / "a", VALUES)
    p = run.state["plateau"]
    assert p["drops"] == [10] and p["stopped_at"] == 16 and p["best"] == 0.3 and p["best_step"] == 12
    assert run.completed and run.step == 16 and "plateau" in run.summary()["stop_reason"]
    assert lrs[:10] == [0.1] * 10 and lrs[10:] == pytest.approx([0.01] * 6)


def test_a_stopped_run_resumes_to_the_same_decisions(tmp_path):
    ref, _ = _run(tmp_path / "ref", VALUES)
    cut, _ = _run(tmp_path / "cut", VALUES, stop_after_steps=11)
    assert not cut.completed and cut.state["plateau"]["drops"] == [10]
    resumed, lrs = _run(tmp_path / "cut", VALUES, resume=True)
    assert resumed.state["plateau"] == ref.state["plateau"] and resumed.step == 16
    assert lrs == pytest.approx([0.01] * 5)
    again, lrs = _run(tmp_path / "cut", VALUES, resume=True)  # a finished run does not train on
    assert again.completed and again.step == 16 and lrs == []


def test_an_improving_curve_runs_its_whole_budget(tmp_path):
    run, _ = _run(tmp_path / "b", [1.0 / (i + 1) for i in range(30)], steps=20)
    assert run.step == 20 and run.state["plateau"]["drops"] == [] and not run.state.get("stop_reason")


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="mode"):
        Plateau("l2", mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        Plateau("l2", patience=0)
