"""The supervised baseline ("manually annotated" keypoints of the paper's comparison).

The service's own supervised heatmap architecture, ``keypoint_trainer.models.HeatmapNet``
(U-Net-style encoder-decoder, 64 x 64 heatmaps), trained on the same simulated training
maps *with* their 14 ground-truth joints: Gaussian targets from the shared heatmap codec
(sigma 2 cells), MSE loss, DARK decoding. Its input is the same pressure map, resized to
the 128 x 128 input HeatmapNet was designed for and max-normalised like SPMKD's.
Resumable like the SPMKD stages (``last.pth`` / ``done.json``).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ...codecs import decode_heatmaps, encode_heatmaps
from ...engine.progress import Progress
from ...engine.seeding import epoch_permutation, get_rng_state, seed_everything
from ...engine.checkpoint import restore_training_state, save_checkpoint
from ...data.pressure.splits import baseline_input, to_model_input


@dataclass
class BaselineConfig:
    steps: int = 240
    batch_size: int = 32
    lr: float = 2e-3
    warmup: int = 20
    input_size: int = 128
    heatmap_size: int = 64
    sigma: float = 2.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_baseline(cfg: BaselineConfig, num_joints: int = 14):
    from ...models.heatmap_net import HeatmapNet

    return HeatmapNet(num_keypoints=num_joints, heatmap_size=cfg.heatmap_size)


def _targets(joints_cells: np.ndarray, rows: int, cols: int, cfg: BaselineConfig):
    s = cfg.input_size
    hms, ws = [], []
    for j in joints_cells:
        px = np.stack([j[:, 0] * s / cols, j[:, 1] * s / rows], 1)
        hm, w = encode_heatmaps(px, (s, s), (cfg.heatmap_size, cfg.heatmap_size), cfg.sigma)
        hms.append(hm)
        ws.append(w)
    return torch.from_numpy(np.stack(hms)), torch.from_numpy(np.stack(ws))


def train_baseline(run_dir: Path, cfg: BaselineConfig, maps: np.ndarray, joints_cells: np.ndarray,
                   rows: int, cols: int, *, resume: bool = True, stop_after_steps: Optional[int] = None,
                   log=print) -> Optional[dict]:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    done = run_dir / "done.json"
    if resume and done.is_file():
        log(f"[{run_dir}] already done")
        return json.loads(done.read_text())
    seed_everything(cfg.seed + 100)
    model = build_baseline(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    spec = baseline_input(cfg.input_size)
    step, curves, wall = 0, {"train": []}, 0.0
    last = run_dir / "last.pth"
    if resume and last.is_file():
        step, curves, wall = restore_training_state(last, model, opt)
        log(f"[{run_dir}] resumed at step {step}/{cfg.steps}")
    n = len(maps)
    bs = min(cfg.batch_size, n)
    spe = max(1, n // bs)
    prog = Progress(cfg.steps, label=f"[baseline {run_dir.name}]", interval=30.0, done_steps=step)
    t0 = time.monotonic()

    def save():
        save_checkpoint(last, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                               "curves": curves, "rng": get_rng_state(), "wall_s": wall + time.monotonic() - t0})

    model.train()
    while step < cfg.steps:
        epoch, i = divmod(step, spe)
        idx = np.sort(epoch_permutation(n, cfg.seed + 100, epoch)[i * bs:(i + 1) * bs])
        x = to_model_input(maps[idx], spec)
        tgt, w = _targets(joints_cells[idx], rows, cols, cfg)
        if step < cfg.warmup:
            lr = cfg.lr * (step + 1) / cfg.warmup
        else:
            t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
            lr = cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))
        for g in opt.param_groups:
            g["lr"] = lr
        pred = model(x)
        loss = (((pred - tgt) ** 2).mean(dim=(2, 3)) * w).mean() * 1000.0
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        curves["train"].append([step, float(loss.detach())])
        prog.update(1, epoch=epoch + 1, step=step, steps=cfg.steps, loss=float(loss.detach()))
        if step % 50 == 0:
            save()
        if stop_after_steps is not None and step >= stop_after_steps and step < cfg.steps:
            save()
            return None
    wall += time.monotonic() - t0
    torch.save(model.state_dict(), run_dir / "final.pth")
    save()
    summary = {"steps": cfg.steps, "batch_size": bs, "train_maps": n, "epochs": cfg.steps * bs / n,
               "wall_s": wall, "config": cfg.to_dict(), "final_loss": curves["train"][-1][1]}
    (run_dir / "curves.json").write_text(json.dumps(curves))
    done.write_text(json.dumps(summary, indent=2))
    log(f"[{run_dir}] done in {wall:.0f}s")
    return summary


def load_baseline(run_dir: Path, cfg: BaselineConfig):
    model = build_baseline(cfg)
    model.load_state_dict(torch.load(Path(run_dir) / "final.pth", map_location="cpu"))
    model.eval()
    return model


@torch.no_grad()
def predict_baseline(model, maps: np.ndarray, cfg: BaselineConfig, batch_size: int = 32) -> np.ndarray:
    """Raw maps -> 14 joints, normalised [N, 14, 2] (DARK decoding of the heatmaps)."""
    model.eval()
    spec = baseline_input(cfg.input_size)
    out = []
    for i in range(0, len(maps), batch_size):
        hm = model(to_model_input(maps[i:i + batch_size], spec)).numpy()
        kp, _ = decode_heatmaps(hm, method="dark")
        out.append(kp)
    return np.concatenate(out).astype(np.float64)
