"""HSJP pretext training, fine-tuning of HeatmapNet from the pretrained weights, evaluation.

Networks: the pretext network is the seed's HeatmapNet (``models/heatmap_net.py``) with N^2
output channels (and a 2-channel first conv when the unshuffled image is concatenated). The
downstream network is the unchanged 5-keypoint HeatmapNet; fine-tuning copies every
pretrained weight except the final 1x1 conv (the paper uses the pretext weights "as
backbones"; our encoder-decoder is the whole backbone). With a 2-channel first conv, the
downstream conv1 weight is the sum over its two input channels: the original image then
enters both channels, as it did for the unshuffled channel during pretraining.

The pretext loss is ``pretext.loss`` (codecs/jigsaw.py: ``mse``, the paper's Eq. 2 and the
default, or ``softmax_ce``, a spatial softmax per channel with cross-entropy).

Fine-tuning is the stick-figure recipe (MSE on 64 x 64 Gaussians sigma 2, Adam 1e-3, DARK
decoding) for a fixed number of steps on a seeded random subset of the labelled training
split (label fractions), evaluated on the test split with ``metrics/pck.py``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ...codecs.heatmap import HeatmapCodec
from ...codecs.jigsaw import PretextSpec, default_eps, located, make_sample, pretext_loss, puzzle_precision, softmax_ce_floor
from ...core.manifest import write_json
from ...core.provenance import machine_info, versions
from ...engine.distributed import Distributed, data_parallel
from ...engine.fit import Fit, Hook, Sampler, WindowHistory, fit
from ...engine.predict import predict
from ...engine.schedules import fraction_milestones, step_decay
from ...engine.seeding import seed_everything
from ...metrics.pck import summarize
from ...models.heatmap_net import HeatmapNet


def _fit(cfg: dict[str, Any], model: torch.nn.Module, loss_fn, tc: dict[str, Any], n: int, steps: int, name: str,
         resume: bool, log, hooks: Sequence[Hook] = (), ranks: Distributed = Distributed()) -> dict[str, Any]:
    """One run on the engine's fit loop: Adam, batches over seeded permutations, lr x0.1 at ``lr_drops``."""
    seed = int(cfg["run"]["seed"])
    run = fit(model, loss_fn, optimizer=torch.optim.Adam(model.parameters(), lr=float(tc["lr"])),
              sampler=Sampler(n, int(tc["batch_size"]), seed), steps=steps,
              lr=step_decay(float(tc["lr"]), fraction_milestones(steps, tc.get("lr_drops", ()))),
              out_dir=Path(cfg["run"]["out_dir"]) / name, label=f"[hsjp/{name}]",
              checkpoint_every=int(tc.get("checkpoint_every", 50)), resume=resume,
              progress_interval=float(cfg["run"].get("progress_interval", 10.0)), hooks=[WindowHistory(), *hooks], log=log,
              distributed=ranks)
    return {**run.summary(), "validation": run.state.get("validation", [])}


def pretext_model(spec: PretextSpec) -> HeatmapNet:
    m = HeatmapNet(spec.n * spec.n)
    if spec.concat:
        m.encoder.conv1[0] = nn.Conv2d(2, m.encoder.conv1[0].out_channels, 3, padding=1, bias=False)
    return m


def pretext_batch(pool: np.ndarray, idx: np.ndarray, spec: PretextSpec, seed: int, step: int,
                  augment: Optional[bool] = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list]:
    xs, ts, ms, cs = [], [], [], []
    for i in idx:
        s = make_sample(pool[int(i)], spec, np.random.default_rng([seed, step, int(i)]), augment)
        xs.append(s["input"]); ts.append(s["target"]); ms.append(s["mask"]); cs.append(s["centres"])
    return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts)), torch.from_numpy(np.stack(ms)), cs)


def train_pretext(cfg: dict[str, Any], name: str, spec: PretextSpec, pool: np.ndarray, *, resume: bool = False,
                  log=print, hooks: Sequence[Hook] = ()) -> dict[str, Any]:
    seed = int(cfg["run"]["seed"])
    pc = cfg["pretext"]
    out = Path(cfg["run"]["out_dir"]) / name
    seed_everything(seed)
    model = pretext_model(spec)
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks
    loss_name = str(pc.get("loss", "mse"))
    crit = pretext_loss(loss_name)

    def loss_fn(idx, step):
        x, t, m, _ = pretext_batch(pool, idx, spec, seed, step)
        loss = crit(net(x), t, m)
        parts = {"masked": float(1 - m.mean())}
        with torch.no_grad():  # the batch's trivial (all-zero output) and, for softmax_ce, best loss
            parts["zero_output"] = float(crit(torch.zeros_like(t), t, m))
            if loss_name == "softmax_ce":
                parts["floor"] = softmax_ce_floor(t, m)
        return loss, parts

    res = _fit(cfg, model, loss_fn, pc, len(pool), int(pc["steps"]), name, resume, log, hooks, ranks)
    torch.save({"model": model.state_dict(), "spec": spec.__dict__}, out / "pretext.pth")
    res.update({"name": name, "loss": loss_name, "spec": spec.__dict__, "pool_size": len(pool), "machine": machine_info(),
                "versions": versions()})
    write_json(out / "training_log.json", res)
    return res


@torch.no_grad()
def evaluate_pretext(model: HeatmapNet, spec: PretextSpec, images: np.ndarray, seed: int,
                     eps: Optional[float] = None, inked: Optional[np.ndarray] = None) -> dict[str, Any]:
    """Puzzle precision without augmentation (paper Sec. 3.5) on ``images`` [M, S, S]; the
    shuffles use step 2**30 of the seed, a stream no training step reaches.

    ``inked`` [M, N^2] (experiments/hsjp/ambiguity.py) adds the learnable part of the puzzle:
    ``inked_patch_accuracy`` (located patches among those that show ink; blank patches are
    interchangeable) and ``inked_precision`` (images whose inked patches are all located)."""
    was_training = model.training
    model.eval()
    S = images.shape[-1]
    eps = eps or default_eps(S, spec.n)
    oks = []
    for b in range(0, len(images), 32):
        idx = np.arange(b, min(b + 32, len(images)))
        x, _, _, centres = pretext_batch(images, idx, spec, seed, 1 << 30, augment=False)
        out = model(x).numpy()
        oks += [located(out[k], centres[k], S, eps) for k in range(len(idx))]
    model.train(was_training)
    ok = np.stack(oks)
    res = {"puzzle_precision": puzzle_precision(ok.all(axis=1)), "patch_accuracy": float(ok.mean()),
           "eps_px": eps, "images": len(images), "n": spec.n, "concat": spec.concat}
    if inked is not None:
        ink = np.asarray(inked, bool)[:len(ok)]
        res["inked_patch_accuracy"] = float(ok[ink].mean()) if ink.any() else None
        res["inked_precision"] = puzzle_precision((ok | ~ink).all(axis=1))
    return res


class PretextValidation(Hook):
    """Every ``every`` steps: :func:`evaluate_pretext` on held-out images, kept in the fit state."""

    def __init__(self, spec: PretextSpec, images: np.ndarray, seed: int, every: int,
                 inked: Optional[np.ndarray] = None):
        self.spec, self.images, self.seed, self.every, self.inked = spec, images, seed, int(every), inked

    def init(self, state: dict[str, Any]) -> None:
        state["validation"] = []

    def after_step(self, fit: Fit, loss: float, parts: dict[str, float]) -> None:
        if self.every and (fit.step % self.every == 0 or fit.step == fit.steps):
            ev = evaluate_pretext(fit.model, self.spec, self.images, self.seed, inked=self.inked)
            fit.state.setdefault("validation", []).append({"step": fit.step, **ev})
            fit.log(f"{fit.label} step {fit.step}: puzzle precision {ev['puzzle_precision']:.3f}, patches "
                    f"{ev['patch_accuracy']:.3f}, inked patches {ev.get('inked_patch_accuracy') or 0:.3f}, "
                    f"inked precision {ev.get('inked_precision') or 0:.3f}")


def load_pretext(cfg: dict[str, Any], name: str) -> tuple[HeatmapNet, PretextSpec]:
    ck = torch.load(Path(cfg["run"]["out_dir"]) / name / "pretext.pth", map_location="cpu")
    spec = PretextSpec(**ck["spec"])
    m = pretext_model(spec)
    m.load_state_dict(ck["model"])
    return m.eval(), spec


def transfer(pretrained: dict[str, torch.Tensor], target: HeatmapNet) -> list[str]:
    """Copy all matching weights except ``final.*``; collapse a 2-channel conv1. -> copied keys."""
    own = target.state_dict()
    copied = []
    for k, v in pretrained.items():
        if k.startswith("final.") or k not in own:
            continue
        if k == "encoder.conv1.0.weight" and v.shape[1] == 2 and own[k].shape[1] == 1:
            v = v.sum(dim=1, keepdim=True)
        if v.shape == own[k].shape:
            own[k] = v.clone()
            copied.append(k)
    target.load_state_dict(own)
    return copied


def label_subset(n: int, fraction: float, seed: int) -> np.ndarray:
    k = max(1, int(round(n * fraction)))
    return np.sort(np.random.default_rng([seed, 77]).permutation(n)[:k])


def finetune(cfg: dict[str, Any], name: str, data: dict[str, Any], *, fraction: float, steps: int,
             init: Optional[str] = None, resume: bool = False, log=print) -> dict[str, Any]:
    """Train HeatmapNet on ``fraction`` of the labels for ``steps`` steps, from ``init`` (a pretext run) or scratch."""
    seed = int(cfg["run"]["seed"])
    fc = cfg["finetune"]
    out = Path(cfg["run"]["out_dir"]) / name
    seed_everything(seed)
    model = HeatmapNet(5)
    model.codec = HeatmapCodec()  # the stick-figure recipe: 64x64 Gaussians, sigma 2, DARK decoding
    copied = []
    if init:
        ck = torch.load(Path(cfg["run"]["out_dir"]) / init / "pretext.pth", map_location="cpu")
        copied = transfer(ck["model"], model)
    sub = label_subset(len(data["train_x"]), fraction, seed)
    x, y = data["train_x"][torch.from_numpy(sub)], data["train_y"][torch.from_numpy(sub)]
    crit = nn.MSELoss()
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks

    def loss_fn(idx, step):
        i = torch.from_numpy(idx)
        return crit(net(x[i]), y[i]), {}

    res = _fit(cfg, model, loss_fn, fc, len(x), steps, name, resume, log, ranks=ranks)
    t0 = time.monotonic()
    pred = predict(model, data["test_x"], 64)["keypoints"]
    metrics = summarize(pred, data["test_kp"])
    res.update({"name": name, "init": init, "fraction": fraction, "labelled": int(len(x)), "copied_tensors": len(copied),
                "test": metrics, "eval_seconds": round(time.monotonic() - t0, 1), "machine": machine_info(),
                "versions": versions()})
    torch.save({"model": model.state_dict()}, out / "model.pth")
    write_json(out / "result.json", res)
    log(f"[hsjp/{name}] test PCK@0.05 {metrics['pck_bbox']['0.05']:.4f} @0.1 {metrics['pck_bbox']['0.1']:.4f} "
        f"AUC {metrics['auc_bbox']:.4f}")
    return res
