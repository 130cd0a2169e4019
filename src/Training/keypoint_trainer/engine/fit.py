"""The fit loop of every family: Adam-style optimisation over a step budget, exact resume.

A family hands the loop a ``step_fn(indices, step) -> (loss, parts)`` (targets, forward and
loss of one batch), a :class:`Sampler` (the data order), a learning-rate schedule
(engine/schedules.py) and :class:`Hook` objects for what happens around the steps (validation,
best checkpoint, curves, snapshots, fresh data per epoch). The loop owns the rest:

* data order: epoch e is ``epoch_permutation(n, seed, e)`` (a pure function of (seed, epoch));
  batches of ``batch_size``, the last partial one kept (or dropped: ``drop_last``), optionally
  sorted within the batch;
* ``last.pth`` (atomic) holds model, optimizer, Python/NumPy/torch RNG states and the state
  dict (step, epoch, running epoch loss, times and every hook's entries); it is written every
  ``checkpoint_every`` steps, at every epoch end (after the epoch hooks), at the end and when
  stopped. ``resume=True`` continues from it and replays exactly the remaining batches, so a
  resumed run is step for step the uninterrupted one (same thread count);
* progress lines with ETA (engine/progress.py), wall and pure training time.

Data parallel (engine/distributed.py): with ``distributed`` of several processes every rank takes
its strided share of each global batch; every family's ``step_fn`` runs its forward through the
module of ``data_parallel(model)`` (the DDP wrapper in a group), so gradients are averaged; the
logged loss is the mean over ranks (the ``parts`` are rank 0's share). Each rank keeps its own
checkpoints (rank 0 in the run's directory, the others in ``ranks/<rank>`` below it:
``Distributed.own``), so every rank resumes from its own identical state.

One process at a time trains in a run directory (engine/runlock.py: a second one fails at once).

``stop_after_steps`` stops (resumably) after that many steps of the run: a testing aid and the
way to split a long run over sessions. A hook may end the run early for good by setting
``state["stop_reason"]`` and scale the schedule by ``state["lr_scale"]`` (engine/plateau.py: train
to the validation plateau); ``steps`` is then the upper bound.
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import Distributed
from .progress import Progress, format_duration
from .runlock import run_lock
from .schedules import Schedule
from .seeding import epoch_permutation, get_rng_state, set_rng_state

StepFn = Callable[[np.ndarray, int], "tuple[torch.Tensor, dict[str, float]]"]
LAST = "last.pth"


@dataclass(frozen=True)
class Sampler:
    """Batches of epochs over seeded permutations of ``n`` items."""
    n: int
    batch_size: int
    seed: int
    drop_last: bool = False   # epochs of n // batch_size full batches (else ceil, last one partial)
    sort: bool = False        # indices of a batch in ascending order

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.n // self.batch_size) if self.drop_last else math.ceil(self.n / self.batch_size)

    def indices(self, step: int) -> np.ndarray:
        epoch, s = divmod(step, self.steps_per_epoch)
        idx = epoch_permutation(self.n, self.seed, epoch)[s * self.batch_size:(s + 1) * self.batch_size]
        return np.sort(idx) if self.sort else idx


class Hook:
    """Something that happens around the steps. Its entries live in ``fit.state`` (saved with
    every checkpoint); ``init`` creates them for a fresh run."""

    def init(self, state: dict[str, Any]) -> None: ...

    def start(self, fit: "Fit", resumed: bool) -> None: ...

    def epoch_start(self, fit: "Fit", epoch: int) -> None: ...

    def after_step(self, fit: "Fit", loss: float, parts: dict[str, float]) -> None: ...

    def epoch_end(self, fit: "Fit", epoch: int) -> None: ...


class Every(Hook):
    """``fn(fit)`` after every ``n``-th step and after the last one."""

    def __init__(self, n: int, fn: Callable[["Fit"], None]):
        self.n, self.fn = int(n), fn

    def after_step(self, fit: "Fit", loss: float, parts: dict[str, float]) -> None:
        if (self.n and fit.step % self.n == 0) or fit.step == fit.steps:
            self.fn(fit)


class StepLosses(Hook):
    """``state["curves"]["train"]``: ``[step, loss, parts]`` of every step (``parts=False``: ``[step, loss]``)."""

    def __init__(self, parts: bool = True):
        self.parts = parts

    def init(self, state: dict[str, Any]) -> None:
        state.setdefault("curves", {})["train"] = []

    def after_step(self, fit: "Fit", loss: float, parts: dict[str, float]) -> None:
        fit.state["curves"]["train"].append([fit.step, loss, parts] if self.parts else [fit.step, loss])


class WindowHistory(Hook):
    """``state["history"]``: mean loss (and the last parts) of every ``n`` steps and of the last step."""

    def __init__(self, n: int = 10):
        self.n = n

    def init(self, state: dict[str, Any]) -> None:
        state["history"], state["history_window"] = [], []

    def after_step(self, fit: "Fit", loss: float, parts: dict[str, float]) -> None:
        window = fit.state.setdefault("history_window", [])
        window.append(loss)
        if fit.step % self.n == 0 or fit.step == fit.steps:
            fit.state["history"].append({"step": fit.step, "loss": float(np.mean(window)),
                                         "lr": fit.lr(fit.step - 1) * fit.state.get("lr_scale", 1.0), **{k: float(v) for k, v in parts.items()}})
            window.clear()


@dataclass
class Fit:
    """The run as the hooks see it."""
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    sampler: Sampler
    steps: int
    lr: Schedule
    out_dir: Optional[Path]
    label: str
    log: Callable[..., None] = print
    extra: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    completed: bool = False
    distributed: Distributed = Distributed()

    @property
    def step(self) -> int:
        return self.state["step"]

    @property
    def steps_per_epoch(self) -> int:
        return self.sampler.steps_per_epoch

    @property
    def epochs(self) -> int:
        return math.ceil(self.steps / self.steps_per_epoch)

    @property
    def wall_s(self) -> float:
        return self.state["wall_s"]

    @property
    def train_s(self) -> float:
        return self.state["train_s"]

    @property
    def seconds_per_step(self) -> float:
        return self.state["train_s"] / max(self.state["step"], 1)

    def summary(self) -> dict[str, Any]:
        """What a training log records of the run itself."""
        return {"steps": self.step, "completed": self.completed, "history": self.state.get("history", []),
                "wall_time_s": round(self.wall_s, 2), "seconds_per_step": round(self.seconds_per_step, 4),
                "threads": torch.get_num_threads(),
                **({"stop_reason": self.state["stop_reason"]} if self.state.get("stop_reason") else {}),
                **({"plateau": self.state["plateau"]} if "plateau" in self.state else {})}

    def save(self) -> None:
        save_checkpoint(self.out_dir / LAST, {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                                              "rng": get_rng_state(), "state": self.state, **self.extra})


def fit(model: torch.nn.Module, step_fn: StepFn, *, optimizer: torch.optim.Optimizer, sampler: Sampler, steps: int,
        lr: Schedule, out_dir: Optional[Path], label: str, checkpoint_every: int = 0, resume: bool = False,
        stop_after_steps: Optional[int] = None, progress_interval: Optional[float] = 10.0,
        hooks: Sequence[Hook] = (), extra_checkpoint: Optional[dict[str, Any]] = None, log=print,
        distributed: Distributed = Distributed()) -> Fit:
    """Run (or continue) the optimisation to ``steps`` steps; -> the :class:`Fit` (``completed``
    is False when stopped by ``stop_after_steps``). ``out_dir=None``: no checkpoints (a small fit
    inside an evaluation); ``progress_interval=None``: no progress lines."""
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with run_lock(out) if out is not None else nullcontext():  # one process per run directory
        run = Fit(model, optimizer, sampler, int(steps), lr, out, label, log, dict(extra_checkpoint or {}),
                  distributed=distributed)
        resumed = resume and out is not None and (out / LAST).is_file()
        if resumed:
            ck = load_checkpoint(out / LAST)
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            set_rng_state(ck["rng"])
            run.state = upgrade_state(ck, run.steps_per_epoch)
            log(f"{label} resumed from {out / LAST}: epoch {run.state['epoch'] + 1}, step "
                f"{run.state['step_in_epoch']} of the epoch, step {run.step}/{run.steps}")
        else:
            run.state = {"step": 0, "epoch": 0, "step_in_epoch": 0, "loss_sum": 0.0, "loss_count": 0,
                         "train_s": 0.0, "wall_s": 0.0}
            for h in hooks:
                h.init(run.state)
        for h in hooks:
            h.start(run, resumed)
        _loop(run, step_fn, hooks, int(checkpoint_every), stop_after_steps, progress_interval)
    return run


def _loop(run: Fit, step_fn: StepFn, hooks: Sequence[Hook], checkpoint_every: int,
          stop_after_steps: Optional[int], progress_interval: float) -> None:
    st, spe = run.state, run.steps_per_epoch
    progress = Progress(run.steps, label=run.label, interval=progress_interval, done_steps=st["step"]) \
        if progress_interval is not None else None
    t_seg, wall_before = time.monotonic(), st["wall_s"]
    first = True
    run.model.train()
    while st["step"] < run.steps and not st.get("stop_reason"):
        step = st["step"]
        epoch, s = divmod(step, spe)
        if s == 0 or first:
            for h in hooks:
                h.epoch_start(run, epoch)
            run.model.train()
            first = False
        batch = run.sampler.indices(step)
        idx = run.distributed.shard(batch)
        for group in run.optimizer.param_groups:
            group["lr"] = run.lr(step) * st.get("lr_scale", 1.0)
        t0 = time.monotonic()
        run.optimizer.zero_grad(set_to_none=True)
        loss, parts = step_fn(idx, step)
        loss.backward()
        run.optimizer.step()
        st["train_s"] += time.monotonic() - t0
        value = run.distributed.mean(float(loss), len(idx))
        st.update(step=step + 1, epoch=epoch, step_in_epoch=s + 1)
        st["loss_sum"] += value * len(batch)
        st["loss_count"] += len(batch)
        if progress is not None:
            progress.update(epoch=epoch + 1, epochs=run.epochs, step=s + 1, steps=spe, loss=value,
                            avg=st["loss_sum"] / st["loss_count"], **{k: float(v) for k, v in parts.items()})
        for h in hooks:
            h.after_step(run, value, parts)
        epoch_done = s + 1 == spe
        if epoch_done:
            st["wall_s"] = wall_before + time.monotonic() - t_seg
            for h in hooks:
                h.epoch_end(run, epoch)
            st.update(epoch=epoch + 1, step_in_epoch=0, loss_sum=0.0, loss_count=0)
        run.model.train()
        stopping = stop_after_steps is not None and st["step"] >= stop_after_steps and st["step"] < run.steps
        st["wall_s"] = wall_before + time.monotonic() - t_seg
        finished = st["step"] == run.steps or bool(st.get("stop_reason"))
        if run.out_dir is not None and ((checkpoint_every and st["step"] % checkpoint_every == 0) or epoch_done
                                        or stopping or finished):
            run.save()
        if stopping:
            run.log(f"{run.label} stopped after {st['step']} steps (resume to continue)")
            return
    run.completed = True
    if st.get("stop_reason"):
        run.log(f"{run.label} stopped at step {st['step']} of at most {run.steps}: {st['stop_reason']}")
    st["wall_s"] = wall_before + time.monotonic() - t_seg
    if progress is not None:
        run.log(f"{run.label} {st['step']}/{run.steps} steps, wall {format_duration(st['wall_s'])}, "
                f"{run.seconds_per_step:.2f} s/step")


def upgrade_state(ck: dict[str, Any], steps_per_epoch: int) -> dict[str, Any]:
    """The state of a checkpoint, also of the three loops this one replaced (stick trainer:
    ``global_step``; SPMKD stages: ``step``/``curves``/``wall_s`` beside the weights; multi/HSJP:
    no epoch entries), so their runs still resume."""
    st = dict(ck["state"]) if "state" in ck else {"step": ck["step"], "curves": ck["curves"],
                                                   "wall_s": ck.get("wall_s", 0.0)}
    if "global_step" in st:
        st["step"] = st.pop("global_step")
    epoch, s = divmod(st["step"], steps_per_epoch)
    st.setdefault("epoch", epoch)
    st.setdefault("step_in_epoch", s)
    for k, v in (("loss_sum", 0.0), ("loss_count", 0), ("train_s", 0.0), ("wall_s", 0.0)):
        st.setdefault(k, v)
    return st
