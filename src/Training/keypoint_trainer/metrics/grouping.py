"""Multi-figure metrics (docs/klpnet.md, "Metrics"): grouped instances against ground-truth figures.

Per test image the exported outputs go through the reference grouping (codecs/grouping.py: ``group``).
Predicted instances are matched one-to-one to ground-truth figures (Hungarian assignment on
the mean normalised keypoint distance, a missing keypoint costing 1). With alpha = 0.1 and
the figure's keypoint-box diagonal d_f:

* **PCK, predicted identities** (paper Table 3 top): a GT keypoint (f, t) is correct when
  the instance matched to f has a keypoint of type t within alpha * d_f;
* **PCK, oracle identities** (Table 3 bottom): correct when *any* detected keypoint lies
  within alpha * d_f (identity and grouping given by an oracle; localisation only);
* **links**: a predicted link (type pair (a, b) of an instance matched to f) is a true
  positive when both ends are within alpha * d_f of f's keypoints a and b; recall over the
  K - 1 = 4 links that join a GT figure's keypoints (any tree over them); F1;
* **detection type accuracy**: of the GT keypoints with a detection within alpha * d_f, the
  share whose nearest detection has the right keypoint type (grouping cannot repair a wrong type);
* **figure accuracy**: a GT figure whose matched instance has all 5 keypoints correct (beside it
  the share of figures with no occluded keypoint, and the figure accuracy over those figures:
  occluded keypoints have no training target); with oracle identities, a figure each of whose keypoints
  has *some* detection within alpha * d_f: the most any grouping of these detections can reach;
  **count accuracy**: images with as many instances as figures;
* everything by occlusion level (``none``/``slight``/``heavy``, data/multi/generator.py) and, for
  keypoints, visible vs occluded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..codecs.grouping import GroupingSpec, group
from ..core.keypoints import STICK_FIGURE, Skeleton
from ..data.multi.generator import LEVELS


def match(gt: np.ndarray, diag: np.ndarray, kp: np.ndarray, present: np.ndarray) -> list[tuple[int, int]]:
    """GT figures [F, K, 2] (normalised) to instances [M, K, 2] -> [(f, m)]."""
    F_, M = len(gt), len(kp)
    if F_ == 0 or M == 0:
        return []
    cost = np.ones((F_, M))
    for f in range(F_):
        for m in range(M):
            d = np.linalg.norm(np.nan_to_num(kp[m]) - gt[f], axis=-1) / diag[f]
            cost[f, m] = np.where(present[m], np.minimum(d, 1.0), 1.0).mean()
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < 1.0]


@dataclass
class GroupedImage:
    """One image grouped and matched: the grouping result, its instances as arrays, the image's figures
    (normalised, with their keypoint-box diagonals) and the figure -> instance assignment."""
    res: Any
    kp: np.ndarray
    present: np.ndarray
    gt: np.ndarray
    diag: np.ndarray
    pairs: dict[int, int]

    @property
    def detections(self) -> np.ndarray:
        return np.array([[d.x, d.y] for d in self.res.detections]).reshape(-1, 2)


def group_and_match(outputs: dict[str, np.ndarray], data: dict[str, np.ndarray], n: int, spec: GroupingSpec,
                    skeleton: Skeleton = STICK_FIGURE) -> GroupedImage:
    """Group image ``n``'s outputs (:func:`codecs.grouping.group`) and match its instances to its figures."""
    K = skeleton.num_keypoints
    res = group({k: v[n] for k, v in outputs.items()}, spec, skeleton.links, K)
    kp, present, _ = res.instance_arrays(K)
    gt = data["keypoints"][n, :int(data["count"][n])] / data["images"].shape[-1]
    span = gt.max(1) - gt.min(1)
    diag = np.maximum(np.hypot(span[:, 0], span[:, 1]), 1e-6)
    return GroupedImage(res, kp, present, gt, diag, dict(match(gt, diag, kp, present)))


def _counters(alphas: Sequence[float]) -> dict[str, Any]:
    return {"kp": 0, "kp_vis": 0, "kp_occ": 0, "pred": {a: 0 for a in alphas}, "oracle": {a: 0 for a in alphas},
            "pred_vis": 0, "pred_occ": 0, "oracle_vis": 0, "oracle_occ": 0,
            "tp_links": 0, "pred_links": 0, "gt_links": 0, "figures": 0, "figures_ok": 0, "images": 0,
            "count_ok": 0, "instances": 0, "outliers": 0, "detections": 0, "type_ok": 0,
            "figures_visible": 0, "figures_visible_ok": 0, "figures_oracle_ok": 0}


def _count_keypoints(a_: dict[str, Any], gt: np.ndarray, occ: np.ndarray, diag: np.ndarray, det: np.ndarray,
                     det_types: np.ndarray, kp: np.ndarray, present: np.ndarray, pairs: dict[int, int], alphas: Sequence[float],
                     alpha: float, skeleton: Skeleton) -> None:
    """Keypoint PCK (predicted and oracle identities, visible/occluded) and figure accuracy of one image."""
    for f in range(len(gt)):
        m = pairs.get(f)
        ok_all = oracle_all = True
        for t in range(skeleton.num_keypoints):
            a_["kp"] += 1
            vis = "occ" if occ[f, t] else "vis"
            a_[f"kp_{vis}"] += 1
            dist = np.linalg.norm(det - gt[f, t], axis=1) / diag[f]
            dmin = float(dist.min()) if len(det) else np.inf
            a_["type_ok"] += int(dmin <= alpha and det_types[int(np.argmin(dist))] == t)
            dpred = (np.linalg.norm(kp[m, t] - gt[f, t]) / diag[f]) if (m is not None and present[m, t]) else np.inf
            for al in alphas:
                a_["oracle"][al] += int(dmin <= al)
                a_["pred"][al] += int(dpred <= al)
            a_[f"oracle_{vis}"] += int(dmin <= alpha)
            a_[f"pred_{vis}"] += int(dpred <= alpha)
            ok_all &= bool(dpred <= alpha)
            oracle_all &= bool(dmin <= alpha)
        a_["figures"] += 1
        a_["figures_ok"] += int(ok_all)
        a_["figures_oracle_ok"] += int(oracle_all)
        a_["figures_visible"] += int(not occ[f].any())
        a_["figures_visible_ok"] += int(ok_all and not occ[f].any())
        a_["gt_links"] += skeleton.num_keypoints - 1  # the links of a tree over the figure's keypoints


def _count_links(a_: dict[str, Any], res, gt: np.ndarray, diag: np.ndarray, det: np.ndarray,
                 pairs: dict[int, int], alpha: float) -> None:
    """Predicted links of one image and how many of them join the right keypoints of their figure."""
    for mi, inst in enumerate(res.instances):
        f = next((ff for ff, mm in pairs.items() if mm == mi), None)
        for l, i, j, _ in inst.links:
            a_["pred_links"] += 1
            if f is None:
                continue
            a, b = res.links[l]
            ok = (np.linalg.norm(det[i] - gt[f, a]) / diag[f] <= alpha
                  and np.linalg.norm(det[j] - gt[f, b]) / diag[f] <= alpha)
            a_["tp_links"] += int(ok)


def _summary(parts: list[dict], alphas: Sequence[float]) -> dict[str, Any]:
    s = {k: sum(p[k] for p in parts) for k in parts[0] if not isinstance(parts[0][k], dict)}
    for k in ("pred", "oracle"):
        s[k] = {al: sum(p[k][al] for p in parts) for al in alphas}
    kp = max(s["kp"], 1)
    prec = s["tp_links"] / s["pred_links"] if s["pred_links"] else 0.0
    rec = s["tp_links"] / s["gt_links"] if s["gt_links"] else 0.0
    return {
        "images": s["images"], "figures": s["figures"], "keypoints": s["kp"],
        "pck_pred_id": {f"{al:g}": s["pred"][al] / kp for al in alphas},
        "pck_oracle_id": {f"{al:g}": s["oracle"][al] / kp for al in alphas},
        "pck_pred_id_visible": s["pred_vis"] / max(s["kp_vis"], 1),
        "pck_pred_id_occluded": s["pred_occ"] / s["kp_occ"] if s["kp_occ"] else None,
        "pck_oracle_id_visible": s["oracle_vis"] / max(s["kp_vis"], 1),
        "pck_oracle_id_occluded": s["oracle_occ"] / s["kp_occ"] if s["kp_occ"] else None,
        "occluded_keypoints": s["kp_occ"],
        "detection_type_accuracy": s["type_ok"] / max(s["oracle_vis"] + s["oracle_occ"], 1),
        "link_precision": prec, "link_recall": rec,
        "link_f1": 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0,
        "figure_accuracy": s["figures_ok"] / max(s["figures"], 1),
        "figure_accuracy_oracle_id": s["figures_oracle_ok"] / max(s["figures"], 1),
        "figures_all_visible": s["figures_visible"] / max(s["figures"], 1),
        "figure_accuracy_all_visible": s["figures_visible_ok"] / s["figures_visible"] if s["figures_visible"] else None,
        "count_accuracy": s["count_ok"] / max(s["images"], 1),
        "mean_instances": s["instances"] / max(s["images"], 1),
        "mean_outliers": s["outliers"] / max(s["images"], 1),
        "mean_detections": s["detections"] / max(s["images"], 1),
    }


def evaluate_outputs(outputs: dict[str, np.ndarray], data: dict[str, np.ndarray], spec: GroupingSpec,
                     alphas: Sequence[float] = (0.05, 0.1, 0.2), alpha: float = 0.1,
                     skeleton: Skeleton = STICK_FIGURE) -> dict[str, Any]:
    """Group every image's outputs and score the instances against its figures (overall and by level)."""
    acc = {lv: _counters(alphas) for lv in LEVELS}
    for n in range(len(data["images"])):
        a_ = acc[LEVELS[int(data["level"][n])]]
        g = group_and_match(outputs, data, n, spec, skeleton)
        res, kp, present, gt, diag, pairs = g.res, g.kp, g.present, g.gt, g.diag, g.pairs
        nf = len(gt)
        det = g.detections
        det_types = np.array([d.type for d in res.detections], dtype=np.int64)
        a_["images"] += 1
        a_["count_ok"] += int(len(res.instances) == nf)
        a_["instances"] += len(res.instances)
        a_["outliers"] += len(res.outliers)
        a_["detections"] += len(res.detections)
        _count_keypoints(a_, gt, data["occluded"][n, :nf], diag, det, det_types, kp, present, pairs, alphas, alpha,
                         skeleton)
        _count_links(a_, res, gt, diag, det, pairs, alpha)
    out = {"alpha": alpha, "alphas": list(alphas), "all": _summary(list(acc.values()), alphas)}
    out["by_level"] = {lv: _summary([acc[lv]], alphas) for lv in LEVELS if acc[lv]["images"]}
    return out
