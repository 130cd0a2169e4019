"""The HSJP pretext task (paper Sec. 3), for square single-channel inputs of side S.

Coordinates follow docs/model-manifest.md: continuous pixels, pixel (i, j) centred at
(i + 0.5, j + 0.5), x right, y down.

* Split: patches of p = ceil(S / N) pixels (rounded up as in the paper); the image is padded
  at the right/bottom edge (replicating the border) to N*p, shuffled, and cropped back to
  S, so the last row/column of slots is cut by at most N - 1 pixels. Slot j (row-major,
  row r = j // N, column c = j % N) is centred at ((c + 0.5) p, (r + 0.5) p).
* Shuffle: Durstenfeld's in-place Fisher-Yates (``fisher_yates``); ``perm[j] = i`` means slot
  j of the shuffled image shows original patch i.
* Targets: channel i is a unit Gaussian (Eq. 1) at the centre of the slot that now shows
  original patch i, with sigma = ``sigma_fraction`` x the paper's bound S / (6N) (3-sigma
  rule), on the 64 x 64 heatmap grid (cell u = x / stride - 0.5, codecs/heatmap.py).
* Spatial augmentation of the shuffled image (Sec. 3.2): scale 1 + U(-0.35, 0.35),
  translation U(-0.1, 0.1) x S per axis, rotation U(-45, 45) degrees about the image centre;
  the same affine map moves the target centres. Channels whose centre leaves the image get
  mask 0 (Eq. 2's M).
* Colour augmentation (grayscale versions of Sec. 3.2's list): brightness/contrast jitter,
  Gaussian noise, solarisation.
* Loss (Eq. 2): sum_i M_i sum_xy (G - H)^2 / (N^2 h w), averaged over the batch
  (``masked_mse``, config ``pretext.loss = "mse"``, the default). Its all-zero output scores
  almost as well as a perfect one (N^2 small Gaussians on 64 x 64 cells), and a measured
  1,000-step N = 3 run stayed there (docs/results/convergence.md). Not in the paper:
  ``softmax_ce`` (``pretext.loss = "softmax_ce"``) reads each channel as logits over the h x w
  cells and takes the cross-entropy against the target Gaussian normalised to sum 1 ("where
  did patch i go?"), with the same mask M and the same 1 / N^2 and batch averaging; the
  all-zero output is the uniform distribution there, at loss log(h w), with a non-zero
  gradient. Decoding (argmax) is the same for both.
* Puzzle precision (Eq. 3-5): no augmentation; patch i is located when the argmax of channel
  i lies within eps of its target centre; an image is solved when all N^2 patches are.
  The paper does not give eps; we use eps = p / 2 (half a patch: the neighbourhoods of the
  slot centres are then disjoint).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from .heatmap import decode_heatmaps, gaussian_heatmaps
from ..core.errors import ConfigError


def fisher_yates(n: int, rng: np.random.Generator) -> np.ndarray:
    """Knuth-Durstenfeld shuffle of 0..n-1 (the paper's algorithm)."""
    a = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i + 1))
        a[i], a[j] = a[j], a[i]
    return a


def patch_size(size: int, n: int) -> int:
    return int(math.ceil(size / n))


def sigma_bound(size: int, n: int) -> float:
    """The paper's 3-sigma bound S / (6N) in input pixels; sigma must stay below it."""
    return size / (6.0 * n)


def slot_centres(size: int, n: int) -> np.ndarray:
    """[N^2, 2] (x, y) pixel centres of the slots, row-major."""
    p = patch_size(size, n)
    j = np.arange(n * n)
    return np.stack([(j % n + 0.5) * p, (j // n + 0.5) * p], axis=1).astype(np.float64)


def shuffle_patches(img: np.ndarray, n: int, perm: np.ndarray) -> np.ndarray:
    """``img`` [..., S, S] -> shuffled copy: slot j shows original patch perm[j]."""
    S = img.shape[-1]
    p = patch_size(S, n)
    P = n * p
    pad = [(0, 0)] * (img.ndim - 2) + [(0, P - S), (0, P - S)]
    src = np.pad(img, pad, mode="edge")
    out = np.empty_like(src)
    for j, i in enumerate(perm):
        rj, cj, ri, ci = j // n, j % n, int(i) // n, int(i) % n
        out[..., rj * p:(rj + 1) * p, cj * p:(cj + 1) * p] = src[..., ri * p:(ri + 1) * p, ci * p:(ci + 1) * p]
    return out[..., :S, :S]


def target_centres(perm: np.ndarray, size: int, n: int) -> np.ndarray:
    """[N^2, 2]: channel i -> centre of the slot showing original patch i."""
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    return slot_centres(size, n)[inv]


def random_affine(rng: np.random.Generator, size: int, scale: float = 0.35, translate: float = 0.1,
                  rotate: float = 45.0) -> np.ndarray:
    """2 x 3 matrix mapping source pixels to destination pixels (about the image centre)."""
    s = 1.0 + rng.uniform(-scale, scale)
    a = math.radians(rng.uniform(-rotate, rotate))
    t = rng.uniform(-translate, translate, 2) * size
    return affine_matrix(size, s, a, t)


def affine_matrix(size: int, s: float, angle_rad: float, t) -> np.ndarray:
    c = size / 2.0
    R = s * np.array([[math.cos(angle_rad), -math.sin(angle_rad)], [math.sin(angle_rad), math.cos(angle_rad)]])
    return np.concatenate([R, (np.array([c, c]) + np.asarray(t, float) - R @ np.array([c, c]))[:, None]], axis=1)


def transform_points(A: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    return pts @ A[:, :2].T + A[:, 2]


def warp(img: np.ndarray, A: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Bilinear warp of ``img`` [..., S, S] by A (source -> destination), pixel-centre convention."""
    S = img.shape[-1]
    c = np.arange(S) + 0.5
    X, Y = np.meshgrid(c, c)
    Ainv = np.linalg.inv(np.vstack([A, [0, 0, 1]]))[:2]
    sx = Ainv[0, 0] * X + Ainv[0, 1] * Y + Ainv[0, 2] - 0.5   # source index space
    sy = Ainv[1, 0] * X + Ainv[1, 1] * Y + Ainv[1, 2] - 0.5
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = sx - x0, sy - y0
    out = np.zeros(img.shape, np.float64)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xx, yy = x0 + dx, y0 + dy
            ok = (xx >= 0) & (xx < S) & (yy >= 0) & (yy < S)
            v = np.where(ok, img[..., np.clip(yy, 0, S - 1), np.clip(xx, 0, S - 1)], fill)
            out += wx * wy * v
    return out.astype(img.dtype)


def inside(centres: np.ndarray, size: int) -> np.ndarray:
    return (centres[:, 0] >= 0) & (centres[:, 0] < size) & (centres[:, 1] >= 0) & (centres[:, 1] < size)


def gaussian_targets(centres: np.ndarray, size: int, heatmap_size: int, sigma_px: float) -> np.ndarray:
    stride = size / heatmap_size
    uv = centres / stride - 0.5
    return gaussian_heatmaps(uv, heatmap_size, heatmap_size, sigma_px / stride)


def colour_jitter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grayscale colour augmentation on [0, 1] values: contrast/brightness, noise, solarisation."""
    x = (x - 0.5) * rng.uniform(0.6, 1.4) + 0.5 + rng.uniform(-0.2, 0.2)
    if rng.uniform() < 0.5:
        x = x + rng.normal(0, rng.uniform(0, 0.05), x.shape)
    if rng.uniform() < 0.2:
        x = np.where(x > 0.5, 1.0 - x, x)
    return np.clip(x, 0.0, 1.0)


@dataclass
class PretextSpec:
    n: int = 6
    concat: bool = False           # also feed the unshuffled image as a second channel
    heatmap_size: int = 64
    sigma_fraction: float = 0.75   # sigma = fraction x S / (6N)
    augment: bool = True
    colour: bool = True
    scale: float = 0.35
    translate: float = 0.1
    rotate: float = 45.0

    def sigma_px(self, size: int) -> float:
        return self.sigma_fraction * sigma_bound(size, self.n)

    @property
    def in_channels(self) -> int:
        return 2 if self.concat else 1


def make_sample(img: np.ndarray, spec: PretextSpec, rng: np.random.Generator,
                augment: Optional[bool] = None) -> dict[str, np.ndarray]:
    """One pretext sample from a model input ``img`` [S, S] in [0, 1].

    -> input [C, S, S] float32 (C = 2 with the unshuffled image concatenated), target
    [N^2, h, w], mask [N^2], centres [N^2, 2] (px after augmentation), perm [N^2].
    """
    S = img.shape[-1]
    augment = spec.augment if augment is None else augment
    perm = fisher_yates(spec.n * spec.n, rng)
    x = shuffle_patches(img.astype(np.float64), spec.n, perm)
    chans = [x, img.astype(np.float64)] if spec.concat else [x]
    centres = target_centres(perm, S, spec.n)
    if augment:
        A = random_affine(rng, S, spec.scale, spec.translate, spec.rotate)
        chans = [warp(c, A) for c in chans]
        centres = transform_points(A, centres)
        if spec.colour:
            chans = [colour_jitter(c, rng) for c in chans]
    mask = inside(centres, S)
    target = gaussian_targets(centres, S, spec.heatmap_size, spec.sigma_px(S))
    target[~mask] = 0.0
    return {"input": np.stack(chans).astype(np.float32), "target": target, "mask": mask.astype(np.float32),
            "centres": centres, "perm": perm}


def masked_mse(pred, target, mask):
    """Paper Eq. 2 (torch): sum_i M_i (G - H)^2 / (N^2 h w), mean over the batch."""
    b, c, h, w = pred.shape
    return (((pred - target) ** 2) * mask[:, :, None, None]).sum() / (b * c * h * w)


def softmax_ce(pred, target, mask):
    """Spatial-softmax cross-entropy (torch): sum_i M_i CE(softmax_xy(H_i), G_i / sum G_i) / N^2, mean
    over the batch. ``pred`` [B, N^2, h, w] are logits; masked channels (M = 0, all-zero target)
    contribute nothing. The minimum is the targets' entropy (``softmax_ce_floor``), not 0."""
    b, c, h, w = pred.shape
    logp = torch.log_softmax(pred.reshape(b, c, h * w), dim=-1)
    ce = -(_target_distribution(target.to(logp.dtype)) * logp).sum(dim=-1)
    return (ce * mask).sum() / (b * c)


def softmax_ce_floor(target, mask):
    """The value of :func:`softmax_ce` at the perfect prediction (logits log G): the masked mean entropy."""
    b, c = target.shape[:2]
    q = _target_distribution(target.double())
    ent = -(q * torch.log(q.clamp_min(1e-300))).sum(dim=-1)
    return float((ent * mask.double()).sum() / (b * c))


def _target_distribution(target):
    """[B, C, h, w] target Gaussians -> [B, C, h * w], each channel normalised to sum 1 (all-zero stays zero)."""
    t = target.reshape(*target.shape[:2], -1)
    return t / t.sum(dim=-1, keepdim=True).clamp_min(1e-12)


PRETEXT_LOSSES = {"mse": masked_mse, "softmax_ce": softmax_ce}


def pretext_loss(name: str):
    """``pretext.loss`` -> the loss function (pred, target, mask) -> scalar tensor."""
    if name not in PRETEXT_LOSSES:
        raise ConfigError(f"unknown pretext.loss {name!r} (one of {', '.join(PRETEXT_LOSSES)})")
    return PRETEXT_LOSSES[name]


def located(heatmaps: np.ndarray, centres: np.ndarray, size: int, eps: float) -> np.ndarray:
    """[N^2, h, w] predictions -> bool [N^2]: argmax within eps (px) of its target centre (Eq. 3)."""
    norm, _ = decode_heatmaps(heatmaps, "argmax")
    peaks = norm * size
    return np.linalg.norm(peaks - centres, axis=-1) < eps


def puzzle_precision(solved: np.ndarray) -> float:
    """Eq. 5: T / (T + F) over images (``solved`` = all patches located, Eq. 4)."""
    solved = np.asarray(solved, bool)
    return float(solved.sum() / max(len(solved), 1))


def default_eps(size: int, n: int) -> float:
    return patch_size(size, n) / 2.0
