"""The supervised baseline ("manually annotated" keypoints of the paper's comparison).

The service's own supervised heatmap architecture, ``models/heatmap_net.py: HeatmapNet``
(U-Net-style encoder-decoder, 64 x 64 heatmaps), trained on the same simulated training
maps *with* their 14 ground-truth joints: Gaussian targets from the shared heatmap codec
(sigma 2 cells), MSE loss, DARK decoding. Its input is the same pressure map, resized to
the 128 x 128 input HeatmapNet was designed for and max-normalised like SPMKD's.
Resumable like the SPMKD stages (``last.pth`` / ``done.json``). With validation maps and
``eval_every`` it records the validation joint metrics (``curves["val"]``), and with
``plateau_patience`` it trains to the plateau of validation PCK (torso, 0.2) instead of a fixed
cosine schedule (engine/plateau.py).
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
from ...engine.fit import Fit, Hook, Sampler, StepLosses, fit
from ...engine.plateau import Plateau
from ...engine.schedules import warmup_constant, warmup_cosine
from ...metrics.joints import joint_metrics
from ...engine.seeding import seed_everything
from ...models.heatmap_net import HeatmapNet
from ...core.errors import ConfigError


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
    eval_every: int = 0            # validation joint metrics every N steps (0: none)
    plateau_patience: int = 0      # > 0: to the validation-PCK plateau (needs eval_every)
    plateau_drops: int = 2
    plateau_min_delta: float = 0.01

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


@dataclass
class LabelledMaps:
    """Validation maps with their joints (sensor cells) and the mat's geometry."""
    maps: np.ndarray
    joints_cells: np.ndarray
    rows: int
    cols: int
    pitch_cm: tuple[float, float]


class JointValidation(Hook):
    """``curves["val"]``: the baseline's joint metrics on held-out labelled maps every ``every`` steps."""

    def __init__(self, cfg: BaselineConfig, val: LabelledMaps, every: int):
        self.cfg, self.val, self.every = cfg, val, int(every)

    def init(self, state: dict[str, Any]) -> None:
        state.setdefault("curves", {})["val"] = []

    def after_step(self, fit: Fit, loss: float, parts: dict[str, float]) -> None:
        if fit.step % self.every and fit.step != fit.steps:
            return
        v = self.val
        pred = predict_baseline(fit.model, v.maps, self.cfg) * np.array([v.cols, v.rows], dtype=np.float64)
        m = joint_metrics(pred, v.joints_cells, v.pitch_cm)
        fit.state["curves"]["val"].append({"step": fit.step, "pck_torso@0.2": m["pck_torso@0.2"],
                                           "mean_err_cm": m["mean_err_cm"]})
        fit.log(f"{fit.label} step {fit.step}/{fit.steps} val PCK torso@0.2 {m['pck_torso@0.2']:.3f} "
                f"mean error {m['mean_err_cm']:.2f} cm")


def train_baseline(run_dir: Path, cfg: BaselineConfig, maps: np.ndarray, joints_cells: np.ndarray,
                   rows: int, cols: int, *, resume: bool = True, stop_after_steps: Optional[int] = None,
                   log=print, val: Optional[LabelledMaps] = None) -> Optional[dict]:
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

    hooks: list[Hook] = [StepLosses(parts=False)]
    if val is not None and cfg.eval_every:
        hooks.append(JointValidation(cfg, val, cfg.eval_every))
    if cfg.plateau_patience:
        if len(hooks) < 2:
            raise ConfigError("the baseline's plateau_patience needs validation maps and eval_every")
        hooks.append(Plateau("pck_torso@0.2", mode="max", patience=cfg.plateau_patience, drops=cfg.plateau_drops,
                             min_delta=cfg.plateau_min_delta))
    schedule = warmup_constant(cfg.lr, cfg.warmup) if cfg.plateau_patience else warmup_cosine(cfg.lr, cfg.steps, cfg.warmup)
    run = fit(model, step_fn, optimizer=opt, sampler=sampler, steps=cfg.steps, lr=schedule, out_dir=run_dir,
              label=f"[baseline {run_dir.name}]", checkpoint_every=50, resume=resume,
              stop_after_steps=stop_after_steps, progress_interval=30.0, hooks=hooks, log=log,
              distributed=ranks)
    if not run.completed:
        return None
    curves = run.state["curves"]
    torch.save(model.state_dict(), run_dir / "final.pth")
    summary = {"steps": run.step, "max_steps": cfg.steps, "batch_size": sampler.batch_size, "train_maps": n,
               "epochs": run.step * sampler.batch_size / n, "wall_s": run.wall_s, "config": cfg.to_dict(),
               "final_loss": curves["train"][-1][1],
               **({"final_val": curves["val"][-1]} if curves.get("val") else {}),
               **({"plateau": run.state["plateau"], "stop_reason": run.state.get("stop_reason")}
                  if "plateau" in run.state else {})}
    (run_dir / "curves.json").write_text(json.dumps(curves))
    done.write_text(json.dumps(summary, indent=2))
    log(f"[{run_dir}] done in {run.wall_s:.0f}s")
    return summary


def load_baseline(run_dir: Path, cfg: BaselineConfig, checkpoint: Optional[Path] = None):
    """The finished baseline, or the weights of one of its fit checkpoints (``last.pth``: still training)."""
    model = build_baseline(cfg)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu")["model"] if checkpoint else
                          torch.load(Path(run_dir) / "final.pth", map_location="cpu"))
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
