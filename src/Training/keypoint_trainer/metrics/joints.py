"""Joint metrics of the pressure-map models: PCK in physical centimetres, mean error, posture accuracy.

PCK@0.1 / 0.2 normalised by the torso (thorax to mid-hip) and by the bounding-box diagonal of the
ground-truth joints (metrics/pck.py), computed in centimetres (the unfamiliar mat's cells are
not square); mean error also in sensor cells of the mat in question.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.keypoints import get_skeleton
from .pck import compute_pck

SLP14 = get_skeleton("slp14")
PCK_THRESHOLDS = (0.1, 0.2)


def joint_metrics(pred_cells: np.ndarray, gt_cells: np.ndarray, pitch_cm: tuple[float, float]) -> dict[str, Any]:
    """PCK (torso / bbox-diagonal, in cm) and mean error in cells and cm."""
    scale = np.array(pitch_cm, dtype=np.float64)
    p_cm, g_cm = np.asarray(pred_cells) * scale, np.asarray(gt_cells) * scale
    out: dict[str, Any] = {"count": int(len(pred_cells))}
    for by in ("torso", "bbox"):
        pck = compute_pck(p_cm, g_cm, PCK_THRESHOLDS, by, SLP14)
        for t, v in pck.items():
            out[f"pck_{by}@{t:g}"] = v
    d_cells = np.linalg.norm(np.asarray(pred_cells) - np.asarray(gt_cells), axis=-1)
    d_cm = np.linalg.norm(p_cm - g_cm, axis=-1)
    out["mean_err_cells"] = float(d_cells.mean())
    out["mean_err_cm"] = float(d_cm.mean())
    out["per_joint_err_cm"] = [float(v) for v in d_cm.mean(0)]
    return out


def posture_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int = 4) -> dict[str, Any]:
    cm = np.zeros((num_classes, num_classes), dtype=int)
    for p, t in zip(pred, labels):
        cm[int(t), int(p)] += 1
    return {"accuracy": float((np.asarray(pred) == np.asarray(labels)).mean()), "confusion": cm.tolist()}
