"""CRWT training of the Encoder-Fuser-Decoder (Classification-to-Regression Weight Transfer).

* Stage 1 (classification): the whole EFD is trained to predict per-pixel pressure
  *presence* -- target ``v > presence_threshold`` on the normalised 256 x 256 map -- with
  binary cross-entropy on the decoder's logits.
* Stage 2 (regression): the stage-1 weights are transferred (all of them: encoder, fuser,
  decoder) and the same network is trained to reconstruct the normalised map,
  ``r = sigmoid(logit)``, with ``alpha * L2 + beta * (1 - SSIM)``; L2 is the mean squared
  error per pixel. ``init="scratch"`` skips the transfer (ablation).

The only data either stage reads is the raw pressure array (``load_pressure_only``): no
joints, no posture labels.

Every stage is resumable: ``<run>/<stage>/last.pth`` holds model, optimiser, step, RNG
state and the curves; the data order of an epoch is a pure function of (seed, epoch), so a
resumed stage replays exactly. Curves (``curves.json``): the training loss of every step
and validation L2 / SSIM / BCE every ``eval_every`` steps. A finished stage writes
``final.pth`` and ``done.json`` and is skipped when run again.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...data.pressure.splits import SPMKD_INPUT, to_model_input
from ...engine.distributed import data_parallel
from ...engine.fit import Fit, Hook, Sampler, StepLosses, fit
from ...engine.plateau import Plateau
from ...engine.schedules import warmup_constant, warmup_cosine
from ...engine.seeding import seed_everything
from ...metrics.ssim import ssim
from ...models.efd import EFD, ModelConfig
from ...core.errors import ConfigError


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    stage1_steps: int = 100
    stage2_steps: int = 400
    batch_size: int = 32
    lr1: float = 2e-3
    lr2: float = 1e-3
    warmup: int = 20
    weight_decay: float = 0.0
    alpha: float = 10.0  # weight of the L2 term
    beta: float = 1.0  # weight of the (1 - SSIM) term
    presence_threshold: float = 0.03  # stage-1 target: normalised pressure above this
    concentration: float = 0.0  # weight of the heatmap-spread prior (0 = the paper's loss only)
    eval_every: int = 25
    seed: int = 0
    init: str = "crwt"  # "crwt" (stage 2 starts from stage 1) or "scratch"
    # > 0: train each stage to its validation plateau (stage 1: BCE, stage 2: L2) with a constant rate
    # dropped x0.1 at each plateau (engine/plateau.py); the step counts become upper bounds
    plateau_patience: int = 0
    plateau_drops: int = 2
    plateau_min_delta: float = 0.01

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        d = dict(d)
        d["model"] = ModelConfig.from_dict(d.get("model", {}))
        return cls(**d)


def presence_target(x: torch.Tensor, threshold: float) -> torch.Tensor:
    return (x > threshold).to(x.dtype)


def heatmap_spread(prob: torch.Tensor) -> torch.Tensor:
    """Mean over keypoints of var_x + var_y of each heatmap (normalised coordinates)."""
    n, k, h, w = prob.shape
    xs = (torch.arange(w, dtype=prob.dtype) + 0.5) / w
    ys = (torch.arange(h, dtype=prob.dtype) + 0.5) / h
    px, py = prob.sum(2), prob.sum(3)
    mx, my = (px * xs).sum(-1, keepdim=True), (py * ys).sum(-1, keepdim=True)
    return ((px * (xs - mx) ** 2).sum(-1) + (py * (ys - my) ** 2).sum(-1)).mean()


def stage_loss(stage: int, logits: torch.Tensor, x: torch.Tensor, cfg: TrainConfig,
               heatmaps: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, dict]:
    if stage == 1:
        loss = F.binary_cross_entropy_with_logits(logits, presence_target(x, cfg.presence_threshold))
        parts = {"bce": float(loss.detach())}
    else:
        r = torch.sigmoid(logits)
        l2 = F.mse_loss(r, x)
        s = ssim(r, x)
        loss = cfg.alpha * l2 + cfg.beta * (1.0 - s)
        parts = {"l2": float(l2.detach()), "ssim": float(s.detach())}
    if cfg.concentration > 0 and heatmaps is not None:
        spread = heatmap_spread(heatmaps)
        loss = loss + cfg.concentration * spread
        parts["spread"] = float(spread.detach())
    return loss, parts


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 5 % of ``base`` (engine/schedules.py: warmup_cosine)."""
    return warmup_cosine(base, total, warmup)(step)


@torch.no_grad()
def validate(model: EFD, maps: np.ndarray, cfg: TrainConfig, batch_size: int = 32) -> dict[str, float]:
    """Reconstruction metrics on normalised 256 x 256 maps (no labels involved)."""
    was_training = model.training
    model.eval()
    l2s, ssims, bces, accs, spreads = [], [], [], [], []
    for i in range(0, len(maps), batch_size):
        x = to_model_input(maps[i:i + batch_size])
        out = model(x)
        logits = out["logits"]
        spreads.append(heatmap_spread(out["heatmaps"]).reshape(1) * len(x))
        r = torch.sigmoid(logits)
        tgt = presence_target(x, cfg.presence_threshold)
        l2s.append(((r - x) ** 2).flatten(1).mean(1))
        ssims.append(ssim(r, x, reduction="none"))
        bces.append(F.binary_cross_entropy_with_logits(logits, tgt, reduction="none").flatten(1).mean(1))
        accs.append(((logits > 0).to(x.dtype) == tgt).to(x.dtype).flatten(1).mean(1))
    model.train(was_training)
    cat = lambda v: float(torch.cat(v).mean())  # noqa: E731
    return {"l2": cat(l2s), "ssim": cat(ssims), "bce": cat(bces), "presence_acc": cat(accs),
            "heatmap_sd": float(math.sqrt(float(torch.cat(spreads).sum()) / max(1, len(maps)) / 2))}


class Validation(Hook):
    """Validation curves (``state["curves"]["val"]``): at step 0 of a fresh stage and every
    ``eval_every`` steps (the loop checkpoints at the same steps)."""

    def __init__(self, cfg: TrainConfig, val_maps: np.ndarray):
        self.cfg, self.val_maps = cfg, val_maps

    def init(self, state: dict[str, Any]) -> None:
        state.setdefault("curves", {})["val"] = []

    def start(self, fit: Fit, resumed: bool) -> None:
        if fit.step == 0:  # the starting point of the curves
            fit.state["curves"]["val"].append({"step": 0, **validate(fit.model, self.val_maps, self.cfg)})

    def after_step(self, fit: Fit, loss: float, parts: dict[str, float]) -> None:
        if fit.step % self.cfg.eval_every == 0 or fit.step == fit.steps:
            v = validate(fit.model, self.val_maps, self.cfg)
            fit.state["curves"]["val"].append({"step": fit.step, **v})
            fit.log(f"{fit.label} step {fit.step}/{fit.steps} val l2 {v['l2']:.5f} ssim {v['ssim']:.4f} "
                    f"bce {v['bce']:.4f}")


def train_stage(stage_dir: Path, stage: int, cfg: TrainConfig, train_maps: np.ndarray, val_maps: np.ndarray,
                *, init_state: Optional[dict] = None, resume: bool = True, stop_after_steps: Optional[int] = None,
                log=print, progress_interval: float = 30.0) -> Optional[dict]:
    """Train one CRWT stage on the engine's fit loop. Returns the final summary, or None if stopped early."""
    stage_dir = Path(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    done = stage_dir / "done.json"
    if done.is_file() and resume:
        log(f"[{stage_dir}] already done")
        return json.loads(done.read_text())
    total = cfg.stage1_steps if stage == 1 else cfg.stage2_steps
    base_lr = cfg.lr1 if stage == 1 else cfg.lr2
    seed = cfg.seed * 10 + stage
    seed_everything(seed)
    model = EFD(cfg.model)
    if init_state is not None:
        model.load_state_dict(init_state)
    elif stage == 2 and not (resume and (stage_dir / "last.pth").is_file()):
        log(f"[{stage_dir}] stage 2 from scratch (no weight transfer)")
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks
    opt = torch.optim.Adam(model.parameters(), lr=base_lr, weight_decay=cfg.weight_decay)
    n = len(train_maps)
    sampler = Sampler(n, min(cfg.batch_size, n), seed, drop_last=True, sort=True)

    def step_fn(idx: np.ndarray, step: int):
        x = to_model_input(train_maps[idx])
        out = net(x)
        return stage_loss(stage, out["logits"], x, cfg, out["heatmaps"])

    hooks = [StepLosses(), Validation(cfg, val_maps)]
    if cfg.plateau_patience:
        hooks.append(Plateau("bce" if stage == 1 else "l2", patience=cfg.plateau_patience, drops=cfg.plateau_drops,
                             min_delta=cfg.plateau_min_delta))
    schedule = warmup_constant(base_lr, cfg.warmup) if cfg.plateau_patience else warmup_cosine(base_lr, total, cfg.warmup)
    run = fit(model, step_fn, optimizer=opt, sampler=sampler, steps=total, lr=schedule,
              out_dir=stage_dir, label=f"[stage{stage} {stage_dir.parent.name}]", checkpoint_every=cfg.eval_every,
              resume=resume, stop_after_steps=stop_after_steps, progress_interval=progress_interval,
              hooks=hooks, extra_checkpoint={"config": cfg.to_dict()}, log=log,
              distributed=ranks)
    if not run.completed:
        return None
    curves = run.state["curves"]
    torch.save(model.state_dict(), stage_dir / "final.pth")
    bs = sampler.batch_size
    summary = {"stage": stage, "steps": run.step, "max_steps": total, "batch_size": bs, "train_maps": n,
               "epochs": run.step * bs / n, "wall_s": run.wall_s, "final_val": curves["val"][-1],
               "config": cfg.to_dict(), **({"plateau": run.state["plateau"], "stop_reason": run.state.get("stop_reason")}
                                          if "plateau" in run.state else {})}
    (stage_dir / "curves.json").write_text(json.dumps(curves))
    done.write_text(json.dumps(summary, indent=2))
    log(f"[{stage_dir}] done in {run.wall_s:.0f}s: {curves['val'][-1]}")
    return summary


def train_crwt(run_dir: Path, cfg: TrainConfig, train_maps: np.ndarray, val_maps: np.ndarray, *,
               resume: bool = True, stop_after_steps: Optional[int] = None, log=print,
               stage1_dir: Optional[Path] = None) -> Optional[dict]:
    """Both stages (or stage 2 only for ``cfg.init == 'scratch'``). ``stage1_dir`` lets
    several runs share one stage 1. ``stop_after_steps`` counts steps of the whole run."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    init = None
    s1 = None
    remaining = stop_after_steps
    if cfg.init == "crwt":
        s1_dir = Path(stage1_dir) if stage1_dir else run_dir / "stage1"
        s1 = train_stage(s1_dir, 1, cfg, train_maps, val_maps, resume=resume, stop_after_steps=remaining, log=log)
        if s1 is None:
            return None
        if remaining is not None:
            remaining = max(1, remaining - s1["steps"])
        init = torch.load(s1_dir / "final.pth", map_location="cpu")
    elif cfg.init != "scratch":
        raise ConfigError(f"init must be 'crwt' or 'scratch', not {cfg.init!r}")
    s2 = train_stage(run_dir / "stage2", 2, cfg, train_maps, val_maps, init_state=init, resume=resume,
                     stop_after_steps=remaining, log=log)
    if s2 is None:
        return None
    summary = {"stage1": s1, "stage2": s2, "wall_s": (s1 or {}).get("wall_s", 0.0) + s2["wall_s"]}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def load_trained(run_dir: Path, checkpoint: Optional[Path] = None) -> EFD:
    """The run's final model, or the weights of one of its fit checkpoints (``last.pth``: a run in progress)."""
    cfg = TrainConfig.from_dict(json.loads((Path(run_dir) / "config.json").read_text()))
    model = EFD(cfg.model)
    state = torch.load(checkpoint, map_location="cpu")["model"] if checkpoint else \
        torch.load(Path(run_dir) / "stage2" / "final.pth", map_location="cpu")
    model.load_state_dict(state)
    model.eval()
    return model


__all__ = ["TrainConfig", "train_stage", "train_crwt", "validate", "load_trained", "stage_loss", "SPMKD_INPUT"]
