"""Losses and training of the KLPNet-style multi-figure model on the engine's fit loop (docs/klpnet.md).

Targets come from the multi-figure codec (codecs/klp.py). Losses: heatmap of every stage, BCE
with logits weighted 1 + ``heat_pos_weight`` * target so the few positive cells are not
drowned; offsets Smooth L1 and keypoint type cross-entropy in the 3 x 3 cells around each
visible keypoint; links: embeddings sampled at the visible keypoints' cells, logits
s * z_i . z_j + b, BCE against the true adjacency or figure membership (``train.link_target``,
codecs/klp.py). Models with head offsets (``model.head_offsets``) add Smooth L1 on them in the same
cells as the sub-cell offsets, weighted ``train.head_offset_weight``. Occluded keypoints get no target;
evaluation still counts them.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...codecs.klp import adjacency, build_targets, link_targets
from ...core.keypoints import STICK_FIGURE
from ...core.manifest import write_json
from ...core.provenance import machine_info, versions
from ...data.multi.generator import MultiConfig, load_or_generate
from ...engine.distributed import data_parallel, from_environment
from ...engine.fit import Hook, Sampler, WindowHistory, fit
from ...engine.plateau import Plateau
from ...engine.schedules import fraction_milestones, step_decay
from ...engine.seeding import seed_everything
from ...models.klp import KLPConfig, KLPNet
from ...core.errors import ConfigError


#: default weight of the head-offset loss: the offsets are tens of cells (L1 regime of Smooth L1), like
#: CenterNet's box sizes in pixels, which it weights 0.1
HEAD_OFFSET_WEIGHT = 0.1


def link_logits(model: KLPNet, z: torch.Tensor) -> torch.Tensor:
    return model.link_log_scale.exp() * (z @ z.T) + model.link_bias


def compute_loss(model: KLPNet, out: dict[str, Any], tg: dict[str, Any], tcfg: dict[str, Any],
                 adj: np.ndarray) -> tuple[torch.Tensor, dict[str, float]]:
    w = float(tcfg.get("heat_pos_weight", 10.0))
    heat = torch.zeros(())
    for s, logits in enumerate(out["heat_logits"]):
        t = torch.from_numpy(tg["heats"][s])
        heat = heat + F.binary_cross_entropy_with_logits(logits, t, weight=1 + w * t)
    m = torch.from_numpy(tg["offset_mask"])

    def masked_smooth_l1(pred: torch.Tensor, target: np.ndarray) -> torch.Tensor:
        """Mean Smooth L1 (in cells) over the masked cells and both channels."""
        return (F.smooth_l1_loss(pred, torch.from_numpy(target), reduction="none") * m).sum() / m.sum().clamp(min=1) / 2

    offl = torch.zeros(())
    for o in out["offsets"]:
        offl = offl + masked_smooth_l1(o, tg["offsets"])
    ty = torch.from_numpy(tg["types"])
    typel = F.cross_entropy(out["type_logits"], ty, ignore_index=-1) if (ty >= 0).any() else torch.zeros(())
    emb = out["embeddings"]
    B, D = emb.shape[:2]
    flat = emb.reshape(B, D, -1)
    kind = str(tcfg.get("link_target", "skeleton"))
    linkl, nimg = torch.zeros(()), 0
    for b, (cells, figs, tys) in enumerate(tg["pairs"]):
        if len(cells) < 2:
            continue
        z = flat[b][:, torch.from_numpy(cells)].T
        linkl = linkl + F.binary_cross_entropy_with_logits(link_logits(model, z),
                                                            torch.from_numpy(link_targets(figs, tys, adj, kind)))
        nimg += 1
    linkl = linkl / max(nimg, 1)
    total = heat + float(tcfg.get("offset_weight", 1.0)) * offl + float(tcfg.get("type_weight", 0.5)) * typel \
        + float(tcfg.get("link_weight", 0.5)) * linkl
    parts = {"heat": float(heat), "off": float(offl), "type": float(typel), "link": float(linkl)}
    if "head_offsets" in out:
        headl = masked_smooth_l1(out["head_offsets"], tg["head_offsets"])
        total = total + float(tcfg.get("head_offset_weight", HEAD_OFFSET_WEIGHT)) * headl
        parts["head"] = float(headl)
    return total, parts


def load_splits(cfg: dict[str, Any], splits=("train", "val", "test"), log=print) -> dict[str, dict[str, np.ndarray]]:
    d = cfg["data"]
    mc = MultiConfig.from_dict(cfg.get("generator"))
    return {s: load_or_generate(Path(d["root"]), s, int(d[s]), int(d["seeds"][s]), mc, log=log) for s in splits}


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, 128, 128] -> model input [N, 1, 128, 128] = raw / 255 (docs/model-manifest.md)."""
    return torch.from_numpy(images.astype(np.float32) / np.float32(255.0))[:, None]


def build_model(cfg: dict[str, Any], stages: Optional[int] = None) -> KLPNet:
    m = cfg["model"]
    return KLPNet(KLPConfig(num_types=STICK_FIGURE.num_keypoints, stages=int(stages or m["stages"]),
                            embed_dim=int(m["embed_dim"]), width=int(m["width"]),
                            head_offsets=bool(m.get("head_offsets", False))))


def train_model(cfg: dict[str, Any], name: str, stages: int, data: dict[str, np.ndarray], *, resume: bool = False,
                log=print, stop_after_steps: Optional[int] = None, hooks: Sequence[Hook] = ()) -> dict[str, Any]:
    """Train one model into ``{run.out_dir}/{name}/`` (model.pth + training_log.json); ``hooks`` add to
    the loss history (the pipeline's validation curve)."""
    seed = int(cfg["run"]["seed"])
    tcfg = cfg["train"]
    # rank 0 writes the model's directory; in a group every other rank its own copy under ranks/<rank>
    out = from_environment().own(Path(cfg["run"]["out_dir"]) / name)
    seed_everything(seed)
    model = build_model(cfg, stages)
    net, ranks = data_parallel(model)  # DistributedDataParallel in a group: gradients averaged over ranks
    adj = adjacency()
    x = to_input(data["images"])

    def loss_fn(idx: np.ndarray, step: int):
        tg = build_targets(data["keypoints"][idx], data["count"][idx], data["occluded"][idx], stages)
        return compute_loss(model, net(x[torch.from_numpy(idx)]), tg, tcfg, adj)

    steps = int(tcfg["steps"])
    hooks = [WindowHistory(), *hooks]
    if int(tcfg.get("plateau_patience", 0)):  # to the plateau of the validation curve (pred-id PCK)
        if not int(tcfg.get("val_every", 0)):
            raise ConfigError("multi's train.plateau_patience needs a validation curve (train.val_every > 0)")
        hooks.append(Plateau("pck_pred_id", mode="max", patience=int(tcfg["plateau_patience"]),
                             drops=int(tcfg.get("plateau_drops", 1)), min_delta=float(tcfg.get("plateau_min_delta", 0.01)),
                             entries=lambda state: state.get("validation", [])))
    run = fit(model, loss_fn, optimizer=torch.optim.Adam(model.parameters(), lr=float(tcfg["lr"])),
              sampler=Sampler(len(x), int(tcfg["batch_size"]), seed), steps=steps,
              lr=step_decay(float(tcfg["lr"]), fraction_milestones(steps, tcfg.get("lr_drops", ()))), out_dir=out,
              label=f"[multi/{name}]", checkpoint_every=int(tcfg.get("checkpoint_every", 50)), resume=resume,
              stop_after_steps=stop_after_steps, progress_interval=float(tcfg.get("progress_interval", 10.0)),
              hooks=hooks, log=log, distributed=ranks)
    res = run.summary()
    res["validation"] = run.state.get("validation", [])
    if run.completed:
        torch.save({"model": model.state_dict(), "config": model.cfg.to_dict()}, out / "model.pth")
    res.update({"name": name, "stages": stages, "model": model.cfg.to_dict(), "train_size": len(x), "seed": seed,
                "train": tcfg, "machine": machine_info(), "versions": versions(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    write_json(out / "training_log.json", res)
    return res


def load_model(cfg: dict[str, Any], name: str) -> KLPNet:
    ck = torch.load(Path(cfg["run"]["out_dir"]) / name / "model.pth", map_location="cpu")
    model = KLPNet(KLPConfig(**ck["config"]))
    model.load_state_dict(ck["model"])
    return model.eval()
