"""A small step-budgeted, resumable training loop shared by the ``multi`` and ``hsjp`` plug-ins.

The stick-figure trainer (``training/trainer.py``) trains one target type from a fixed split;
these plug-ins need per-batch target generation (random jigsaw shuffles, multi-stage
targets, link pairs), so they hand a ``loss_fn(indices, step) -> (loss, parts)`` to this loop.
It reuses the package's utilities: ``seed_everything``, ``epoch_permutation`` (data order is
a pure function of (seed, epoch)), ``Progress`` and atomic ``save_checkpoint``.

``last.pth`` (every ``checkpoint_every`` steps and at the end) holds model, optimizer, RNG
states, step and history; ``resume=True`` continues from it with the same batches.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .progress import Progress, format_duration
from .seeding import epoch_permutation, get_rng_state, set_rng_state


def batch_indices(n: int, bs: int, seed: int, step: int) -> np.ndarray:
    """Indices of global step ``step``: epochs of ``ceil(n / bs)`` steps over seeded permutations."""
    per_epoch = math.ceil(n / bs)
    epoch, s = divmod(step, per_epoch)
    perm = epoch_permutation(n, seed, epoch)
    return perm[s * bs:(s + 1) * bs]


def fit_steps(model: torch.nn.Module, loss_fn: Callable[[np.ndarray, int], tuple[torch.Tensor, dict[str, float]]],
              *, n_items: int, steps: int, batch_size: int, lr: float, seed: int, out_dir: Path, label: str,
              checkpoint_every: int = 50, lr_drops: Sequence[float] = (), resume: bool = False,
              progress_interval: float = 10.0, params: Optional[list] = None, log=print,
              stop_after_steps: Optional[int] = None) -> dict[str, Any]:
    """Adam, ``steps`` steps of ``batch_size``; lr x0.1 at each fraction in ``lr_drops`` (e.g. 0.8)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.pth"
    opt = torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    st = {"step": 0, "history": [], "train_s": 0.0, "wall_s": 0.0}
    if resume and last.is_file():
        ck = load_checkpoint(last)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        set_rng_state(ck["rng"])
        st = ck["state"]
        log(f"{label} resumed at step {st['step']}/{steps}")
    drops = sorted(int(round(f * steps)) for f in lr_drops)

    def lr_at(step: int) -> float:
        return lr * (0.1 ** sum(step >= d for d in drops))

    prog = Progress(steps, label=label, interval=progress_interval, done_steps=st["step"])
    t_seg, wall0 = time.monotonic(), st["wall_s"]
    window: list[float] = []
    model.train()
    while st["step"] < steps:
        step = st["step"]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        idx = batch_indices(n_items, batch_size, seed, step)
        t0 = time.monotonic()
        opt.zero_grad(set_to_none=True)
        loss, parts = loss_fn(idx, step)
        loss.backward()
        opt.step()
        st["train_s"] += time.monotonic() - t0
        st["step"] += 1
        window.append(float(loss))
        if st["step"] % 10 == 0 or st["step"] == steps:
            st["history"].append({"step": st["step"], "loss": float(np.mean(window)), "lr": lr_at(step),
                                  **{k: float(v) for k, v in parts.items()}})
            window = []
        prog.update(step=st["step"], steps=steps, loss=float(loss), **{k: float(v) for k, v in parts.items()})
        if (checkpoint_every and st["step"] % checkpoint_every == 0) or st["step"] == steps:
            st["wall_s"] = wall0 + time.monotonic() - t_seg
            save_checkpoint(last, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "rng": get_rng_state(), "state": dict(st)})
        if stop_after_steps is not None and st["step"] >= stop_after_steps and st["step"] < steps:
            log(f"{label} stopping after {st['step']} steps")
            break
    st["wall_s"] = wall0 + time.monotonic() - t_seg
    log(f"{label} {st['step']}/{steps} steps, wall {format_duration(st['wall_s'])}, "
        f"{st['train_s'] / max(st['step'], 1):.2f} s/step")
    return {"steps": st["step"], "completed": st["step"] >= steps, "history": st["history"],
            "wall_time_s": round(st["wall_s"], 2), "seconds_per_step": round(st["train_s"] / max(st["step"], 1), 4),
            "threads": torch.get_num_threads()}
