"""Stick-figure training (seed Part C) on the engine's fit loop: Adam lr 1e-3, batch 32, MSE (or
L1 for variants), N epochs, best checkpoint by validation loss, ``training_log.json``.

What this module adds to engine/fit.py (which owns data order, checkpoints and exact resume):
* model init: ``torch.manual_seed(run.seed)`` (``seed_everything``) before building the model;
  the model's head owns its codec (models/factory.py), which encodes the targets;
* per epoch (:class:`Validation`): validation loss and PCK@0.05/0.1, the best weights by
  validation loss, heatmap snapshots, history and ``training_log.json``;
* ``train_data = "fresh"`` (:class:`FreshData`): new generator images every epoch after the first.

Files in ``{run.out_dir}/{experiment}/``: ``last.pth``, ``{experiment}_model.pth`` (best
weights, the seed's ``heatmap_model.pth``/``regression_model.pth``), ``training_log.json``,
``snapshots/epoch_XXX.npy`` (predicted heatmaps of 4 fixed validation images after epoch
XXX, 000 = initialisation) for heatmap models.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ...codecs.simcc import SimCCLoss
from ...core.manifest import write_json
from ...core.provenance import machine_info, versions
from ...data.stick.dataset import load_split
from ...data.stick.fresh import FreshEpochs
from ...engine import schedules
from ...engine.checkpoint import load_checkpoint, save_checkpoint
from ...engine.distributed import data_parallel, from_environment
from ...engine.fit import Fit, Hook, Sampler, fit
from ...engine.predict import predict, predict_heatmaps
from ...engine.progress import format_duration
from ...engine.run_record import RunRecord
from ...engine.seeding import seed_everything
from ...metrics.pck import compute_pck
from ...models.factory import build_codec, build_model
from .plan import get_experiment

SNAPSHOT_COUNT = 4


def run_dir(cfg: dict[str, Any], name: str) -> Path:
    return Path(cfg["run"]["out_dir"]) / name


def make_criterion(spec: dict[str, Any]) -> nn.Module:
    if spec.get("loss") == "simcc":
        return SimCCLoss(build_codec(spec))
    return {"mse": nn.MSELoss, "l1": nn.L1Loss}[spec.get("loss", "mse")]()


@torch.no_grad()
def evaluate_loss(model: nn.Module, criterion: nn.Module, x: torch.Tensor, y: torch.Tensor, bs: int) -> float:
    model.eval()
    total = 0.0
    for i in range(0, len(x), bs):
        total += float(criterion(model(x[i:i + bs]), y[i:i + bs])) * len(x[i:i + bs])
    return total / max(len(x), 1)


def learning_rate(base: float, schedule: str, step: int, total_steps: int, milestones: Sequence[int] = ()) -> float:
    """Learning rate of optimizer step ``step`` (0-based): the seed's constant rate, a cosine decay
    to 0 over the run, or step decay (x0.1 at each milestone step); engine/schedules.py."""
    return schedules.named(schedule, base, total_steps, milestones)(step)


class FreshData(Hook):
    """``train_data = "fresh"``: the tensors of each epoch (data/stick/fresh.py); epoch 0 is the stored split."""

    def __init__(self, fresh: FreshEpochs, data: dict[str, torch.Tensor]):
        self.fresh, self.data = fresh, data

    def epoch_start(self, fit: Fit, epoch: int) -> None:
        self.data["x"], self.data["y"] = self.fresh.get(epoch, fit.epochs)


class Validation(Hook):
    """Per epoch: validation loss and PCK, best weights, snapshots, history, training_log.json."""

    def __init__(self, name: str, spec: dict[str, Any], criterion: nn.Module, val: tuple, out: Path,
                 snapshot_epochs: set[int], log_info: dict[str, Any]):
        self.name, self.spec, self.criterion, self.out = name, spec, criterion, out
        self.xva, self.yva, self.kva = val
        self.snapshot_epochs, self.log_info = snapshot_epochs, log_info
        self.heatmaps = spec["kind"] in ("heatmap", "soft_argmax")
        self.t_epoch = time.monotonic()

    def init(self, state: dict[str, Any]) -> None:
        state.update(history=[], best_val_loss=float("inf"), best_epoch=None)

    def start(self, fit: Fit, resumed: bool) -> None:
        if resumed:
            return
        # a fresh run: remove what an earlier run left behind
        for stale in [self.out / "last.pth", self.out / f"{self.name}_model.pth", self.out / "training_log.json",
                      *sorted((self.out / "snapshots").glob("epoch_*.npy"))]:
            stale.unlink(missing_ok=True)
        (self.out / "snapshots").mkdir(exist_ok=True)
        if self.heatmaps:
            np.save(self.out / "snapshots" / "epoch_000.npy", predict_heatmaps(fit.model, self.xva[:SNAPSHOT_COUNT]))

    def epoch_start(self, fit: Fit, epoch: int) -> None:
        self.t_epoch = time.monotonic()

    def epoch_end(self, fit: Fit, epoch: int) -> None:
        st, model = fit.state, fit.model
        train_loss = st["loss_sum"] / max(st["loss_count"], 1)
        val_loss = evaluate_loss(model, self.criterion, self.xva, self.yva, 64)
        val_pck = compute_pck(predict(model, self.xva, 64)["keypoints"], self.kva, (0.05, 0.1))
        improved = val_loss < st["best_val_loss"]
        if improved:
            st["best_val_loss"], st["best_epoch"] = val_loss, epoch + 1
            save_checkpoint(self.out / f"{self.name}_model.pth", {"model": model.state_dict(), "spec": self.spec,
                                                                  "epoch": epoch + 1, "val_loss": val_loss})
        if epoch + 1 in self.snapshot_epochs and self.heatmaps:
            np.save(self.out / "snapshots" / f"epoch_{epoch + 1:03d}.npy",
                    predict_heatmaps(model, self.xva[:SNAPSHOT_COUNT]))
        st["history"].append({"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss,
                              "val_pck_bbox_0.05": val_pck[0.05], "val_pck_bbox_0.1": val_pck[0.1],
                              "epoch_time_s": round(time.monotonic() - self.t_epoch, 2), "best": improved})
        self.write_log(fit, False)
        fit.log(f"{fit.label} epoch {epoch + 1}/{fit.epochs} train_loss {train_loss:.6g} val_loss {val_loss:.6g} "
                f"val_pck@0.05 {val_pck[0.05]:.4f}{' *best*' if improved else ''} "
                f"elapsed {format_duration(st['wall_s'])}")

    def write_log(self, fit: Fit, completed: bool) -> dict[str, Any]:
        st = fit.state
        d = {"experiment": self.name, "spec": self.spec, "completed": completed, **self.log_info,
             "val_size": len(self.xva), "steps_per_epoch": fit.steps_per_epoch, "history": st["history"],
             "best_epoch": st["best_epoch"], "best_val_loss": st["best_val_loss"] if st["best_epoch"] else None,
             "wall_time_s": round(st["wall_s"], 2), "train_time_s": round(st["train_s"], 2),
             "seconds_per_step": round(fit.seconds_per_step, 4), "threads": torch.get_num_threads(),
             "machine": machine_info(), "versions": versions()}
        write_json(self.out / "training_log.json", d)
        return d


def train_experiment(cfg: dict[str, Any], name: str, *, resume: bool = False,
                     stop_after_steps: Optional[int] = None, out_dir: Optional[Path] = None,
                     train_subset: Optional[int] = None, epochs: Optional[int] = None,
                     log=print) -> Optional[dict[str, Any]]:
    """Train one experiment; returns its training log (None when stopped by ``stop_after_steps``)."""
    spec = get_experiment(cfg, name)
    tcfg = cfg["train"]
    epochs = int(epochs or spec.get("epochs") or tcfg["epochs"])  # explicit (ablate) > experiment > config
    bs, lr, seed = int(tcfg["batch_size"]), float(tcfg["lr"]), int(spec.get("seed", cfg["run"]["seed"]))
    # one process unless started as a torchrun-style group; rank 0 writes the run, the others
    # keep their own resumable copy under ranks/<rank>
    out = from_environment().own(Path(out_dir) if out_dir else run_dir(cfg, name))
    out.mkdir(parents=True, exist_ok=True)

    codec = build_codec(spec)  # the one the model's head owns
    t_load = time.monotonic()
    xtr, ytr, _ = load_split(cfg, "train", codec, train_subset or tcfg.get("train_subset"))
    xva, yva, kva = load_split(cfg, "val", codec)
    log(f"[{name}] data: train {len(xtr)}, val {len(xva)} ({time.monotonic() - t_load:.1f}s); "
        f"{spec.get('description', '')}")
    seed_everything(seed)
    model = build_model(spec)
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = make_criterion(spec)
    sampler = Sampler(len(xtr), bs, seed)
    steps = epochs * sampler.steps_per_epoch
    milestones = [int(e) * sampler.steps_per_epoch for e in spec.get("lr_milestones", [])]
    data = {"x": xtr, "y": ytr}
    validation = Validation(name, spec, criterion, (xva, yva, kva), out,
                            set(int(e) for e in tcfg.get("snapshot_epochs", [])),
                            {"epochs": epochs, "batch_size": bs, "lr": lr, "seed": seed, "train_size": len(xtr)})
    hooks: list[Hook] = [validation]
    fresh = None
    if spec.get("train_data", "split") == "fresh":
        fresh = FreshEpochs(cfg, codec, len(xtr), (xtr, ytr))
        hooks.insert(0, FreshData(fresh, data))

    def step_fn(idx: np.ndarray, step: int):
        return criterion(net(data["x"][idx]), data["y"][idx]), {}

    if resume and not (out / "last.pth").is_file():
        log(f"[{name}] no checkpoint in {out}; starting from scratch")
    try:
        run = fit(model, step_fn, optimizer=optimizer, sampler=sampler, steps=steps,
                  lr=schedules.named(spec.get("lr_schedule", "constant"), lr, steps, milestones), out_dir=out,
                  label=f"[{name}]", checkpoint_every=int(tcfg.get("checkpoint_every", 0)), resume=resume,
                  stop_after_steps=stop_after_steps, progress_interval=float(tcfg.get("progress_interval", 10.0)),
                  hooks=hooks, extra_checkpoint={"spec": spec, "config": cfg}, log=log, distributed=ranks)
    finally:
        if fresh is not None:
            fresh.close()
    if not run.completed:
        return None
    result = validation.write_log(run, True)
    log(f"[{name}] done: best epoch {run.state['best_epoch']} val_loss {run.state['best_val_loss']:.6g}, "
        f"wall {format_duration(run.wall_s)}")
    return result


def recorded_without_weights(cfg: dict[str, Any], name: str) -> Optional[Path]:
    """The record of a finished run whose weights are not here (a fresh checkout; ``[run] record``,
    engine/run_record.py), else None: ``train`` skips it and ``evaluate`` reads its recorded results."""
    record = RunRecord(cfg["run"].get("record"))
    if record.has(name) and not (run_dir(cfg, name) / f"{name}_model.pth").is_file():
        return record.folder / name
    return None


def load_trained(cfg: dict[str, Any], name: str, out_dir: Optional[Path] = None) -> tuple[nn.Module, dict[str, Any]]:
    """Best weights of a trained experiment -> (model in eval mode, its head's codec attached; spec)."""
    out = Path(out_dir) if out_dir else run_dir(cfg, name)
    ck = load_checkpoint(out / f"{name}_model.pth")
    spec = ck["spec"]
    torch.manual_seed(0)
    model = build_model(spec)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, spec
