"""Multi-figure stick-figure images: 1-4 figures per image, overlapping, occluding, at different scales.

Each figure is the single-figure generator's pose (``data/stick/generator.py``: ``sample_pose``; the
anti-aliased ``Canvas`` of ``data/draw.py``), so keypoints, names and the coordinate convention are the same
(continuous pixels, pixel centres at i + 0.5). Figures are painted back to front: a later
figure first clears a halo around its strokes (and, with ``body_prob``, a filled torso
blob) to the background, then paints its ink, so it cuts through and hides the figures
behind it. A keypoint is *occluded* when a later figure's cleared region covers it.

Occlusion level of an image (for the breakdowns of docs/results/klpnet.md): the largest
pairwise IoU of the figures' boxes (keypoints + head circle): ``none`` (0, boxes disjoint),
``slight`` (0 < IoU <= 0.15), ``heavy`` (IoU > 0.15).

Splits are cached as ``{root}/{split}.npz`` (images uint8 [N, S, S], keypoints [N, 4, 5, 2],
count [N], occluded [N, 4, 5], level [N], max_iou [N]); every image is a pure function of
(split seed, index).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..draw import Canvas, gaussian_blur, uniform
from ..stick.generator import KEYPOINT_ORDER, GeneratorConfig, sample_pose

MAX_FIGURES = 4
NUM_TYPES = len(KEYPOINT_ORDER)
LEVELS = ("none", "slight", "heavy")
SLIGHT_MAX_IOU = 0.15


@dataclass
class MultiConfig:
    image_size: int = 128
    figures: tuple[int, int] = (1, 4)            # inclusive
    scale: tuple[float, float] = (0.45, 0.85)    # figure scale (single-figure default is 0.75-1.25)
    overlap_prob: float = 0.6                    # place a figure next to an earlier one (overlapping)
    halo: float = 1.5                            # px cleared around a later figure's strokes
    body_prob: float = 0.4                       # a later figure also hides what is behind its torso
    margin: float = 3.0
    background: tuple[float, float] = (0.0, 80.0)
    contrast: tuple[float, float] = (80.0, 200.0)
    noise_std: tuple[float, float] = (0.0, 12.0)
    blur_sigma: tuple[float, float] = (0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Optional[dict[str, Any]]) -> "MultiConfig":
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in (d or {}).items()}
        unknown = set(kw) - set(cls.__dataclass_fields__)
        if unknown:
            raise KeyError(f"unknown multi generator parameters {sorted(unknown)}")
        return cls(**kw)


def _box(p: dict, head_r: float) -> np.ndarray:
    pts = np.stack([p[k] for k in KEYPOINT_ORDER])
    lo = np.minimum(pts.min(0), p["head"] - head_r)
    hi = np.maximum(pts.max(0), p["head"] + head_r)
    return np.concatenate([lo, hi])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / ua) if ua > 0 else 0.0


def level_of(max_iou: float) -> int:
    return 0 if max_iou <= 0 else (1 if max_iou <= SLIGHT_MAX_IOU else 2)


def _placed_figures(rng: np.random.Generator, mc: MultiConfig) -> tuple[list[dict], list[np.ndarray]]:
    """1-4 poses, each placed at random or next to an earlier figure -> (poses, their boxes)."""
    S = mc.image_size
    n = int(rng.integers(mc.figures[0], mc.figures[1] + 1))
    poses, boxes = [], []
    for f in range(n):
        g = GeneratorConfig(scale=(mc.scale[0], mc.scale[1]))
        p = sample_pose(rng, g)
        head_r = float(p["head_r"])
        box = _box(p, head_r)
        span = box[2:] - box[:2]
        room = np.maximum(S - 2 * mc.margin - span, 0.0)
        if f > 0 and rng.uniform() < mc.overlap_prob:
            # next to an earlier figure: its centre within ~90 % of that figure's size
            ref = boxes[int(rng.integers(len(boxes)))]
            c = (ref[:2] + ref[2:]) / 2 + rng.uniform(-0.9, 0.9, 2) * (ref[2:] - ref[:2])
            lo = np.clip(c - span / 2, mc.margin, mc.margin + room)
        else:
            lo = mc.margin + rng.uniform(0, 1, 2) * room
        off = lo - box[:2]
        for k, v in list(p.items()):
            if isinstance(v, np.ndarray):
                p[k] = v + off
        poses.append(p)
        boxes.append(box + np.concatenate([off, off]))
    return poses, boxes


def render_multi(seed: int, index: int, mc: MultiConfig) -> dict[str, Any]:
    """-> {image uint8 [S, S], keypoints [F, 5, 2] px, occluded [F, 5] bool, max_iou, level}."""
    rng = np.random.default_rng([int(seed), int(index), 7])
    S = mc.image_size
    poses, boxes = _placed_figures(rng, mc)
    n = len(poses)
    bg = uniform(rng, mc.background)
    img = np.full((S, S), bg)
    occluded = np.zeros((n, NUM_TYPES), dtype=bool)
    kpts = np.stack([np.stack([p[k] for k in KEYPOINT_ORDER]) for p in poses])
    pix = np.clip(np.floor(kpts).astype(int), 0, S - 1)
    for f, p in enumerate(poses):
        width = uniform(rng, (1.2, 2.8))
        ink = Canvas(S)
        clear = Canvas(S)
        filled = bool(rng.uniform() < 0.35)
        ink.circle(p["head"], float(p["head_r"]), width, filled=filled)
        clear.circle(p["head"], float(p["head_r"]), width + 2 * mc.halo, filled=True)
        segs = [("neck", "hip")]
        for side in ("left", "right"):
            segs += [("shoulder", f"{side}_elbow"), (f"{side}_elbow", f"{side}_hand"), ("hip", f"{side}_knee"),
                     (f"{side}_knee", f"{side}_foot")]
        for a, b in segs:
            ink.line(p[a], p[b], width)
            clear.line(p[a], p[b], width + 2 * mc.halo)
        if f > 0 and rng.uniform() < mc.body_prob:
            # a filled torso blob (a thick line), painted in the figure's ink
            tw = float(p["head_r"]) * 1.6
            ink.line(p["neck"], p["hip"], tw)
            clear.line(p["neck"], p["hip"], tw + 2 * mc.halo)
        cover = np.maximum(clear.mask, ink.mask)
        # keypoints of earlier figures under this figure's cleared region are occluded
        for e in range(f):
            occluded[e] |= cover[pix[e, :, 1], pix[e, :, 0]] > 0.5
        fg = min(bg + uniform(rng, mc.contrast), 255.0)
        img = img * (1 - cover) + bg * cover
        img = img * (1 - ink.mask) + fg * ink.mask
    img = gaussian_blur(img, uniform(rng, mc.blur_sigma))
    img = img + rng.normal(0.0, uniform(rng, mc.noise_std), size=img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    max_iou = max([box_iou(boxes[a], boxes[b]) for a in range(n) for b in range(a + 1, n)], default=0.0)
    return {"image": img, "keypoints": kpts, "occluded": occluded, "max_iou": max_iou, "level": level_of(max_iou),
            "boxes": np.stack(boxes)}


def generate_split(count: int, seed: int, mc: MultiConfig) -> dict[str, np.ndarray]:
    S = mc.image_size
    images = np.zeros((count, S, S), np.uint8)
    kp = np.full((count, MAX_FIGURES, NUM_TYPES, 2), np.nan)
    occ = np.zeros((count, MAX_FIGURES, NUM_TYPES), bool)
    nfig = np.zeros(count, np.int64)
    level = np.zeros(count, np.int64)
    max_iou = np.zeros(count)
    for i in range(count):
        r = render_multi(seed, i, mc)
        f = len(r["keypoints"])
        images[i], kp[i, :f], occ[i, :f], nfig[i] = r["image"], r["keypoints"], r["occluded"], f
        level[i], max_iou[i] = r["level"], r["max_iou"]
    return {"images": images, "keypoints": kp, "occluded": occ, "count": nfig, "level": level, "max_iou": max_iou}


def load_or_generate(root: Path, split: str, count: int, seed: int, mc: MultiConfig, log=print) -> dict[str, np.ndarray]:
    """Cached split ``{root}/{split}.npz`` (regenerated when count, seed or parameters differ)."""
    root = Path(root)
    path = root / f"{split}.npz"
    info = {"count": int(count), "seed": int(seed), "generator": json.loads(json.dumps(mc.to_dict()))}
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            if json.loads(str(z["info"])) == info:
                return {k: z[k] for k in z.files if k != "info"}
    import time

    t0 = time.monotonic()
    data = generate_split(count, seed, mc)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{split}.tmp-{os.getpid()}.npz"
    np.savez_compressed(tmp, info=json.dumps(info), **data)
    os.replace(tmp, path)
    log(f"[multi] generated {split}: {count} images (seed {seed}) in {time.monotonic() - t0:.1f}s -> {path}")
    return data
