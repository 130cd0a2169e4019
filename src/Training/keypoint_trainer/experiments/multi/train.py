"""Targets, losses and training of the KLPNet-style multi-figure model (docs/klpnet.md).

Targets per image (64 x 64 cells, stride 2; a keypoint at pixel x is at cell u = x / 2 - 0.5):

* heatmap of stage s: the max over the image's *visible* keypoints of unit Gaussians with
  sigma = kernel_sigma(k_s), k = 7, 5, 3 (coarse to fine); loss: BCE with logits, weighted
  1 + ``heat_pos_weight`` * target so the few positive cells are not drowned;
* offsets (u - x_cell, v - y_cell) in the 3 x 3 cells around each visible keypoint, Smooth L1;
* keypoint type (cross-entropy) in the same cells;
* links: embeddings sampled at the visible keypoints' cells, logits s * z_i . z_j + b, BCE
  against the true adjacency (1 for the same figure and a skeleton link, and on the
  diagonal; 0 otherwise - other figures and same-figure non-links).

Occluded keypoints (hidden by a later figure) get no target; evaluation still counts them.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...core.keypoints import STICK_FIGURE
from ...core.manifest import write_json
from ...engine.seeding import seed_everything
from ...core.provenance import machine_info, versions
from ...data.multi.generator import MultiConfig, load_or_generate
from ...engine.fit import fit_steps
from ...models.klp import STAGE_KERNELS, KLPConfig, KLPNet, kernel_sigma

HM = 64
STRIDE = 2.0


def adjacency(num_types: int = 5, links=STICK_FIGURE.links) -> np.ndarray:
    a = np.eye(num_types)
    for i, j in links:
        a[i, j] = a[j, i] = 1
    return a


def build_targets(keypoints: np.ndarray, count: np.ndarray, occluded: np.ndarray, stages: int) -> dict[str, Any]:
    """Batch targets from keypoints [B, 4, K, 2] (px), count [B], occluded [B, 4, K]."""
    B = len(count)
    K = keypoints.shape[2]
    jj, ii = np.meshgrid(np.arange(HM), np.arange(HM))
    heats = np.zeros((stages, B, 1, HM, HM), np.float32)
    off = np.zeros((B, 2, HM, HM), np.float32)
    omask = np.zeros((B, 1, HM, HM), np.float32)
    types = np.full((B, HM, HM), -1, np.int64)
    pairs = []  # per image: (cells [P], figure ids [P], types [P])
    sig = [kernel_sigma(STAGE_KERNELS[s]) for s in range(stages)]
    for b in range(B):
        cells, figs, tys = [], [], []
        for f in range(int(count[b])):
            for t in range(K):
                if occluded[b, f, t]:
                    continue
                u, v = keypoints[b, f, t] / STRIDE - 0.5
                d2 = (jj - u) ** 2 + (ii - v) ** 2
                for s in range(stages):
                    np.maximum(heats[s, b, 0], np.exp(-d2 / (2 * sig[s] ** 2)), out=heats[s, b, 0])
                cx, cy = int(round(u)), int(round(v))
                cx, cy = min(max(cx, 0), HM - 1), min(max(cy, 0), HM - 1)
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        y, x = cy + dy, cx + dx
                        if 0 <= y < HM and 0 <= x < HM:
                            off[b, :, y, x] = (u - x, v - y)
                            omask[b, 0, y, x] = 1
                            types[b, y, x] = t
                cells.append(cy * HM + cx)
                figs.append(f)
                tys.append(t)
        pairs.append((np.array(cells, np.int64), np.array(figs), np.array(tys)))
    return {"heats": heats, "offsets": off, "offset_mask": omask, "types": types, "pairs": pairs}


def link_targets(figs: np.ndarray, tys: np.ndarray, adj: np.ndarray) -> np.ndarray:
    same = figs[:, None] == figs[None, :]
    return (same & (adj[tys[:, None], tys[None, :]] > 0)).astype(np.float32)


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
    ot = torch.from_numpy(tg["offsets"])
    offl = torch.zeros(())
    for o in out["offsets"]:
        offl = offl + (F.smooth_l1_loss(o, ot, reduction="none") * m).sum() / m.sum().clamp(min=1) / 2
    ty = torch.from_numpy(tg["types"])
    typel = F.cross_entropy(out["type_logits"], ty, ignore_index=-1) if (ty >= 0).any() else torch.zeros(())
    emb = out["embeddings"]
    B, D = emb.shape[:2]
    flat = emb.reshape(B, D, -1)
    linkl, nimg = torch.zeros(()), 0
    for b, (cells, figs, tys) in enumerate(tg["pairs"]):
        if len(cells) < 2:
            continue
        z = flat[b][:, torch.from_numpy(cells)].T
        linkl = linkl + F.binary_cross_entropy_with_logits(link_logits(model, z),
                                                            torch.from_numpy(link_targets(figs, tys, adj)))
        nimg += 1
    linkl = linkl / max(nimg, 1)
    total = heat + float(tcfg.get("offset_weight", 1.0)) * offl + float(tcfg.get("type_weight", 0.5)) * typel \
        + float(tcfg.get("link_weight", 0.5)) * linkl
    return total, {"heat": float(heat), "off": float(offl), "type": float(typel), "link": float(linkl)}


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
                            embed_dim=int(m["embed_dim"]), width=int(m["width"])))


def train_model(cfg: dict[str, Any], name: str, stages: int, data: dict[str, np.ndarray], *, resume: bool = False,
                log=print, stop_after_steps: Optional[int] = None) -> dict[str, Any]:
    """Train one model into ``{run.out_dir}/{name}/`` (model.pth + training_log.json)."""
    seed = int(cfg["run"]["seed"])
    tcfg = cfg["train"]
    out = Path(cfg["run"]["out_dir"]) / name
    seed_everything(seed)
    model = build_model(cfg, stages)
    adj = adjacency()
    x = to_input(data["images"])

    def loss_fn(idx: np.ndarray, step: int):
        tg = build_targets(data["keypoints"][idx], data["count"][idx], data["occluded"][idx], stages)
        return compute_loss(model, model(x[torch.from_numpy(idx)]), tg, tcfg, adj)

    res = fit_steps(model, loss_fn, n_items=len(x), steps=int(tcfg["steps"]), batch_size=int(tcfg["batch_size"]),
                    lr=float(tcfg["lr"]), seed=seed, out_dir=out, label=f"[multi/{name}]",
                    checkpoint_every=int(tcfg.get("checkpoint_every", 50)), lr_drops=tcfg.get("lr_drops", ()),
                    resume=resume, progress_interval=float(tcfg.get("progress_interval", 10.0)), log=log,
                    stop_after_steps=stop_after_steps)
    if res["completed"]:
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
