"""Keypoint metrics: PCK (bbox diagonal or torso), per-keypoint PCK, pixel error, AUC.

* ``bbox``: the diagonal of the tight box around the image's ground-truth keypoints.
  (MMPose's PCK uses max(bbox width, height) instead; ours follows the seed: diagonal.)
* ``torso``: ``Skeleton.torso_length`` - for the stick figure, the distance from the head to
  the midpoint of the two feet (keypoints.py).
A keypoint is correct when its error is <= threshold * normaliser (inclusive).
AUC: mean PCK over thresholds 0, 0.005, ..., 0.2 (41 values, trapezoid rule), divided by
0.2, so a perfect model has AUC 1.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..core.keypoints import STICK_FIGURE, Skeleton
from ..core.errors import ConfigError

THRESHOLDS = (0.05, 0.1, 0.15, 0.2)
EPS = 1e-6


def _np(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def bbox_diagonal(gt: np.ndarray) -> np.ndarray:
    gt = _np(gt)
    span = gt.max(axis=-2) - gt.min(axis=-2)
    return np.hypot(span[..., 0], span[..., 1])


def normalizer(gt: np.ndarray, normalize_by: str = "bbox", skeleton: Skeleton = STICK_FIGURE) -> np.ndarray:
    if normalize_by == "bbox":
        n = bbox_diagonal(gt)
    elif normalize_by == "torso":
        n = skeleton.torso_length(_np(gt))
    else:
        raise ConfigError(f"normalize_by must be 'bbox' or 'torso', not {normalize_by!r}")
    return np.maximum(n, EPS)


def pixel_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    d = _np(pred) - _np(gt)
    return np.hypot(d[..., 0], d[..., 1])


def normalized_errors(pred, gt, normalize_by="bbox", skeleton=STICK_FIGURE) -> np.ndarray:
    return pixel_errors(pred, gt) / normalizer(gt, normalize_by, skeleton)[..., None]


def compute_pck(predictions, ground_truths, thresholds=THRESHOLDS, normalize_by="bbox",
                skeleton: Skeleton = STICK_FIGURE, visible: Optional[np.ndarray] = None) -> dict[float, float]:
    """Seed signature: ``[N, K, 2]`` predictions and ground truths -> {threshold: fraction correct}."""
    e = normalized_errors(predictions, ground_truths, normalize_by, skeleton)
    m = np.ones_like(e, dtype=bool) if visible is None else (np.asarray(visible) > 0)
    return {float(t): float(((e <= t) & m).sum() / max(m.sum(), 1)) for t in thresholds}


def per_keypoint_pck(predictions, ground_truths, thresholds=THRESHOLDS, normalize_by="bbox",
                     skeleton: Skeleton = STICK_FIGURE) -> dict[float, list[float]]:
    e = normalized_errors(predictions, ground_truths, normalize_by, skeleton)
    return {float(t): [float(v) for v in (e <= t).mean(axis=0)] for t in thresholds}


def pck_curve(predictions, ground_truths, normalize_by="bbox", max_threshold=0.2, num=41,
              skeleton: Skeleton = STICK_FIGURE) -> tuple[np.ndarray, np.ndarray]:
    e = normalized_errors(predictions, ground_truths, normalize_by, skeleton).reshape(-1)
    ts = np.linspace(0.0, max_threshold, num)
    return ts, np.array([(e <= t).mean() for t in ts])


def auc(predictions, ground_truths, normalize_by="bbox", max_threshold=0.2, num=41,
        skeleton: Skeleton = STICK_FIGURE) -> float:
    ts, p = pck_curve(predictions, ground_truths, normalize_by, max_threshold, num, skeleton)
    return float(np.trapz(p, ts) / max_threshold)


def summarize(predictions, ground_truths, thresholds: Sequence[float] = THRESHOLDS,
              skeleton: Skeleton = STICK_FIGURE) -> dict[str, Any]:
    pred, gt = _np(predictions), _np(ground_truths)
    px = pixel_errors(pred, gt)
    out: dict[str, Any] = {"count": int(pred.shape[0]), "thresholds": [float(t) for t in thresholds],
                           "keypoints": list(skeleton.keypoints)}
    for by in ("bbox", "torso"):
        out[f"pck_{by}"] = {f"{t:g}": v for t, v in compute_pck(pred, gt, thresholds, by, skeleton).items()}
        out[f"pck_{by}_per_keypoint"] = {f"{t:g}": v for t, v in
                                         per_keypoint_pck(pred, gt, thresholds, by, skeleton).items()}
        out[f"auc_{by}"] = auc(pred, gt, by, skeleton=skeleton)
    out["mean_pixel_error"] = float(px.mean())
    out["median_pixel_error"] = float(np.median(px))
    out["p95_pixel_error"] = float(np.percentile(px, 95))
    out["mean_pixel_error_per_keypoint"] = [float(v) for v in px.mean(axis=0)]
    return out
