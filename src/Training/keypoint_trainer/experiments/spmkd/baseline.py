"""The supervised baseline ("manually annotated" keypoints of the paper's comparison).

The service's own supervised heatmap architecture, ``models/heatmap_net.py: HeatmapNet``
(U-Net-style encoder-decoder, 64 x 64 heatmaps), trained on the same simulated training
maps *with* their 14 ground-truth joints: Gaussian targets from the shared heatmap codec
(sigma 2 cells), MSE loss, DARK decoding. Its input is the same pressure map, resized to
the 128 x 128 input HeatmapNet was designed for and max-normalised like SPMKD's.
Resumable like the SPMKD stages (``last.pth`` / ``done.json``).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ...codecs.heatmap import HeatmapCodec
from ...data.pressure.splits import baseline_input, to_model_input
from ...engine.distributed import data_parallel
from ...engine.fit import Sampler, StepLosses, fit
from ...engine.schedules import warmup_cosine
from ...engine.seeding import seed_everything
from ...models.heatmap_net import HeatmapNet


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
    """HeatmapNet with 14 joint heatmaps; its head owns the codec that encodes its targets and decodes it."""
    model = HeatmapNet(num_keypoints=num_joints, heatmap_size=cfg.heatmap_size)
    model.codec = HeatmapCodec((cfg.input_size, cfg.input_size), (cfg.heatmap_size, cfg.heatmap_size), cfg.sigma, "dark")
    return model


def _targets(codec: HeatmapCodec, joints_cells: np.ndarray, rows: int, cols: int):
    s = codec.input_size[0]
    hms, ws = [], []
    for j in joints_cells:
        hm, w = codec.encode(np.stack([j[:, 0] * s / cols, j[:, 1] * s / rows], 1))
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
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    spec = baseline_input(cfg.input_size)
    n = len(maps)
    sampler = Sampler(n, min(cfg.batch_size, n), cfg.seed + 100, drop_last=True, sort=True)

    def step_fn(idx: np.ndarray, step: int):
        tgt, w = _targets(model.codec, joints_cells[idx], rows, cols)
        pred = net(to_model_input(maps[idx], spec))
        return (((pred - tgt) ** 2).mean(dim=(2, 3)) * w).mean() * 1000.0, {}

    run = fit(model, step_fn, optimizer=opt, sampler=sampler, steps=cfg.steps,
              lr=warmup_cosine(cfg.lr, cfg.steps, cfg.warmup), out_dir=run_dir, label=f"[baseline {run_dir.name}]",
              checkpoint_every=50, resume=resume, stop_after_steps=stop_after_steps, progress_interval=30.0,
              hooks=[StepLosses(parts=False)], log=log, distributed=ranks)
    if not run.completed:
        return None
    curves = run.state["curves"]
    torch.save(model.state_dict(), run_dir / "final.pth")
    summary = {"steps": cfg.steps, "batch_size": sampler.batch_size, "train_maps": n,
               "epochs": cfg.steps * sampler.batch_size / n, "wall_s": run.wall_s, "config": cfg.to_dict(),
               "final_loss": curves["train"][-1][1]}
    (run_dir / "curves.json").write_text(json.dumps(curves))
    done.write_text(json.dumps(summary, indent=2))
    log(f"[{run_dir}] done in {run.wall_s:.0f}s")
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
        kp, _ = model.codec.decode_normalized(model(to_model_input(maps[i:i + batch_size], spec)).numpy())
        out.append(kp)
    return np.concatenate(out).astype(np.float64)
