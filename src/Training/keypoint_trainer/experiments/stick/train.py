"""Train loop (seed Part C): Adam lr 1e-3, batch 32, MSE (or L1 for variants), N epochs,
best checkpoint by validation loss, ``training_log.json``, progress with ETA, exact resume.

Determinism and resume
* model init: ``torch.manual_seed(run.seed)`` before building the model;
* data order: epoch e uses ``epoch_permutation(N, run.seed, e)`` (a pure function), the
  last partial batch is kept;
* ``last.pth`` holds model, optimizer, python/numpy/torch RNG states (dropout), epoch,
  step within the epoch, the running epoch loss, history, best-so-far and wall time; it is
  written at the end of every epoch and every ``train.checkpoint_every`` steps (0 = only
  at epoch ends). ``--resume`` continues from it and replays the same batches, so the run
  ends with the same weights and metrics as an uninterrupted one (same thread count).

Files in ``{run.out_dir}/{experiment}/``: ``last.pth``, ``{experiment}_model.pth`` (best
weights, the seed's ``heatmap_model.pth``/``regression_model.pth``), ``training_log.json``,
``snapshots/epoch_XXX.npy`` (predicted heatmaps of 4 fixed validation images after epoch
XXX, 000 = initialisation) for heatmap models.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ...data.stick.dataset import KeypointDataset
from ...data.stick.splits import split_paths
from ...metrics.pck import compute_pck
from ...core.manifest import write_json
from ...models.factory import build_model
from ...engine.checkpoint import load_checkpoint, save_checkpoint
from ...engine.progress import Progress, format_duration
from ...engine.seeding import epoch_permutation, get_rng_state, seed_everything, set_rng_state
from ...core.provenance import machine_info, versions
from .plan import get_experiment, target_type
from ...data.stick.fresh import FreshEpochs
from ...engine.predict import predict, predict_heatmaps

SNAPSHOT_COUNT = 4
STEP_DECAY = 0.1  # factor of the "step" lr schedule at each milestone


def run_dir(cfg: dict[str, Any], name: str) -> Path:
    return Path(cfg["run"]["out_dir"]) / name


def load_split(cfg: dict[str, Any], split: str, spec: dict[str, Any], subset: Optional[int] = None):
    """-> (images [N,1,128,128], targets, keypoints [N,K,2] px) fully in memory."""
    image_dir, ann = split_paths(cfg, split)
    indices = list(range(subset)) if subset else None
    ds = KeypointDataset(str(image_dir), str(ann), output_type=target_type(spec),
                         heatmap_size=spec.get("heatmap_size", 64), sigma=spec.get("sigma", 2.0), indices=indices)
    if spec["kind"] == "soft_argmax":
        ds.output_type = "regression"
    items = [ds[i] for i in range(len(ds))]
    x = torch.stack([a for a, _ in items])
    y = torch.stack([b for _, b in items])
    return x, y, np.stack([ds.model_keypoints(i) for i in range(len(ds))])


def make_criterion(spec: dict[str, Any]) -> nn.Module:
    return {"mse": nn.MSELoss, "l1": nn.L1Loss}[spec.get("loss", "mse")]()


@torch.no_grad()
def evaluate_loss(model: nn.Module, criterion: nn.Module, x: torch.Tensor, y: torch.Tensor, bs: int) -> float:
    model.eval()
    total = 0.0
    for i in range(0, len(x), bs):
        total += float(criterion(model(x[i:i + bs]), y[i:i + bs])) * len(x[i:i + bs])
    return total / max(len(x), 1)


def train_experiment(cfg: dict[str, Any], name: str, *, resume: bool = False,
                     stop_after_steps: Optional[int] = None, out_dir: Optional[Path] = None,
                     train_subset: Optional[int] = None, epochs: Optional[int] = None,
                     log=print) -> Optional[dict[str, Any]]:
    """Train one experiment; returns its training log (None when stopped by ``stop_after_steps``)."""
    spec = get_experiment(cfg, name)
    tcfg = cfg["train"]
    epochs = int(epochs or spec.get("epochs") or tcfg["epochs"])  # explicit (ablate) > experiment > config
    bs = int(tcfg["batch_size"])
    lr = float(tcfg["lr"])
    seed = int(cfg["run"]["seed"])
    ckpt_every = int(tcfg.get("checkpoint_every", 0))
    snapshot_epochs = set(int(e) for e in tcfg.get("snapshot_epochs", []))
    out = Path(out_dir) if out_dir else run_dir(cfg, name)
    out.mkdir(parents=True, exist_ok=True)
    last_path, best_path, log_path = out / "last.pth", out / f"{name}_model.pth", out / "training_log.json"

    t_load = time.monotonic()
    xtr, ytr, _ = load_split(cfg, "train", spec, train_subset or tcfg.get("train_subset"))
    xva, yva, kva = load_split(cfg, "val", spec)
    log(f"[{name}] data: train {len(xtr)}, val {len(xva)} ({time.monotonic() - t_load:.1f}s); "
        f"{spec.get('description', '')}")

    seed_everything(seed)
    model = build_model(spec)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = make_criterion(spec)
    steps_per_epoch = math.ceil(len(xtr) / bs)
    total_steps = epochs * steps_per_epoch
    schedule = spec.get("lr_schedule", "constant")
    milestones = [int(e) * steps_per_epoch for e in spec.get("lr_milestones", [])]
    fresh = None
    if spec.get("train_data", "split") == "fresh":
        fresh = FreshEpochs(cfg, spec, target_type(spec), len(xtr), (xtr, ytr))
    st: dict[str, Any] = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "loss_sum": 0.0, "loss_count": 0,
                          "history": [], "best_val_loss": float("inf"), "best_epoch": None, "wall_s": 0.0,
                          "train_s": 0.0}
    if resume and last_path.is_file():
        ck = load_checkpoint(last_path)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        set_rng_state(ck["rng"])
        st = ck["state"]
        log(f"[{name}] resumed from {last_path}: epoch {st['epoch'] + 1}, step {st['step_in_epoch']}, "
            f"global step {st['global_step']}")
    else:
        if resume:
            log(f"[{name}] no checkpoint in {out}; starting from scratch")
        # a fresh run: remove what an earlier run left behind
        for stale in [last_path, best_path, log_path, *sorted((out / "snapshots").glob("epoch_*.npy"))]:
            stale.unlink(missing_ok=True)
        (out / "snapshots").mkdir(exist_ok=True)
        if spec["kind"] in ("heatmap", "soft_argmax"):
            np.save(out / "snapshots" / "epoch_000.npy", predict_heatmaps(model, xva[:SNAPSHOT_COUNT]))
            model.train()

    def snapshot_state() -> dict[str, Any]:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": get_rng_state(),
                "state": dict(st), "spec": spec, "config": cfg}

    def write_log(completed: bool) -> dict[str, Any]:
        d = {"experiment": name, "spec": spec, "completed": completed, "epochs": epochs, "batch_size": bs,
             "lr": lr, "seed": seed, "train_size": len(xtr), "val_size": len(xva),
             "steps_per_epoch": steps_per_epoch, "history": st["history"], "best_epoch": st["best_epoch"],
             "best_val_loss": st["best_val_loss"] if st["best_epoch"] else None,
             "wall_time_s": round(st["wall_s"], 2), "train_time_s": round(st["train_s"], 2),
             "seconds_per_step": round(st["train_s"] / max(st["global_step"], 1), 4),
             "threads": torch.get_num_threads(), "machine": machine_info(), "versions": versions()}
        write_json(log_path, d)
        return d

    progress = Progress(epochs * steps_per_epoch, label=f"[{name}]",
                        interval=float(tcfg.get("progress_interval", 10.0)), done_steps=st["global_step"])
    t_seg = time.monotonic()
    wall_before = st["wall_s"]

    def elapsed() -> float:
        return wall_before + time.monotonic() - t_seg

    while st["epoch"] < epochs:
        epoch = st["epoch"]
        if fresh is not None:
            xtr, ytr = fresh.get(epoch, epochs)
        perm = torch.from_numpy(epoch_permutation(len(xtr), seed, epoch))
        model.train()
        t_ep = time.monotonic()
        for s in range(st["step_in_epoch"], steps_per_epoch):
            idx = perm[s * bs:(s + 1) * bs]
            xb, yb = xtr[idx], ytr[idx]
            t0 = time.monotonic()
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(lr, schedule, st["global_step"], total_steps, milestones)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            st["train_s"] += time.monotonic() - t0
            st["loss_sum"] += float(loss) * len(idx)
            st["loss_count"] += len(idx)
            st["global_step"] += 1
            st["step_in_epoch"] = s + 1
            progress.update(epoch=epoch + 1, epochs=epochs, step=s + 1, steps=steps_per_epoch,
                            loss=float(loss), avg=st["loss_sum"] / st["loss_count"])
            if ckpt_every and st["global_step"] % ckpt_every == 0 and s + 1 < steps_per_epoch:
                st["wall_s"] = elapsed()
                save_checkpoint(last_path, snapshot_state())
            if stop_after_steps is not None and st["global_step"] >= stop_after_steps:
                log(f"[{name}] stopping after {st['global_step']} steps (--stop-after-steps)")
                if fresh is not None:
                    fresh.close()
                return None
        train_loss = st["loss_sum"] / max(st["loss_count"], 1)
        val_loss = evaluate_loss(model, criterion, xva, yva, 64)
        pred = predict(model, spec, xva, 64)["keypoints"]
        val_pck = compute_pck(pred, kva, (0.05, 0.1))
        improved = val_loss < st["best_val_loss"]
        if improved:
            st["best_val_loss"], st["best_epoch"] = val_loss, epoch + 1
            save_checkpoint(best_path, {"model": model.state_dict(), "spec": spec, "epoch": epoch + 1,
                                        "val_loss": val_loss})
        if epoch + 1 in snapshot_epochs and spec["kind"] in ("heatmap", "soft_argmax"):
            np.save(out / "snapshots" / f"epoch_{epoch + 1:03d}.npy", predict_heatmaps(model, xva[:SNAPSHOT_COUNT]))
        st["history"].append({"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss,
                              "val_pck_bbox_0.05": val_pck[0.05], "val_pck_bbox_0.1": val_pck[0.1],
                              "epoch_time_s": round(time.monotonic() - t_ep, 2), "best": improved})
        st["epoch"], st["step_in_epoch"], st["loss_sum"], st["loss_count"] = epoch + 1, 0, 0.0, 0
        st["wall_s"] = elapsed()
        save_checkpoint(last_path, snapshot_state())
        write_log(False)
        progress.log(f"epoch {epoch + 1}/{epochs} train_loss {train_loss:.6g} val_loss {val_loss:.6g} "
                     f"val_pck@0.05 {val_pck[0.05]:.4f}{' *best*' if improved else ''} "
                     f"elapsed {format_duration(st['wall_s'])}")
    if fresh is not None:
        fresh.close()
    st["wall_s"] = elapsed()
    result = write_log(True)
    log(f"[{name}] done: best epoch {st['best_epoch']} val_loss {st['best_val_loss']:.6g}, "
        f"wall {format_duration(st['wall_s'])}")
    return result


def learning_rate(base: float, schedule: str, step: int, total_steps: int,
                  milestones: Sequence[int] = ()) -> float:
    """Learning rate for optimizer step ``step`` (0-based): the seed's constant rate, a cosine
    decay from ``base`` to 0 over the run, or step decay (x0.1 at each milestone step, as
    MultiStepLR and the MMPose recipes). A pure function of the step, so resume-safe."""
    if schedule == "constant":
        return base
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    if schedule == "step":
        if not milestones:
            raise ValueError("lr_schedule 'step' needs lr_milestones (epochs after which the rate drops x0.1)")
        return base * STEP_DECAY ** sum(step >= m for m in milestones)
    raise ValueError(f"unknown lr_schedule {schedule!r} (constant, cosine or step)")


def load_trained(cfg: dict[str, Any], name: str, out_dir: Optional[Path] = None) -> tuple[nn.Module, dict[str, Any]]:
    """Best weights of a trained experiment -> (model in eval mode, spec)."""
    out = Path(out_dir) if out_dir else run_dir(cfg, name)
    ck = load_checkpoint(out / f"{name}_model.pth")
    spec = ck["spec"]
    torch.manual_seed(0)
    model = build_model(spec)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, spec
