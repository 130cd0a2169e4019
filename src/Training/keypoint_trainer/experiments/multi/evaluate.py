"""Evaluation of the multi-figure model (docs/klpnet.md, "Metrics").

Per test image the exported outputs go through the reference grouping (``grouping.group``).
Predicted instances are matched one-to-one to ground-truth figures (Hungarian assignment on
the mean normalised keypoint distance, a missing keypoint costing 1). With alpha = 0.1 and
the figure's keypoint-box diagonal d_f:

* **PCK, predicted identities** (paper Table 3 top): a GT keypoint (f, t) is correct when
  the instance matched to f has a keypoint of type t within alpha * d_f;
* **PCK, oracle identities** (Table 3 bottom): correct when *any* detected keypoint lies
  within alpha * d_f (identity and grouping given by an oracle; localisation only);
* **links**: a predicted link (type pair (a, b) of an instance matched to f) is a true
  positive when both ends are within alpha * d_f of f's keypoints a and b; recall over the
  4 links of every GT figure; F1;
* **figure accuracy**: a GT figure whose matched instance has all 5 keypoints correct;
  **count accuracy**: images with as many instances as figures;
* everything by occlusion level (``none``/``slight``/``heavy``, multi/data.py) and, for
  keypoints, visible vs occluded.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ...core.keypoints import STICK_FIGURE
from ...data.multi.generator import LEVELS
from ...codecs.grouping import GroupingSpec, group
from ...models.klp import KLPNet, KLPNetExport
from .train import to_input

HM = 64


@torch.no_grad()
def export_outputs(model: KLPNet, images: np.ndarray, bs: int = 32) -> dict[str, np.ndarray]:
    ex = KLPNetExport(model).eval()
    outs: dict[str, list] = {"heatmap": [], "offsets": [], "types": [], "embeddings": []}
    for i in range(0, len(images), bs):
        res = ex(to_input(images[i:i + bs]))
        for k, v in zip(outs, res):
            outs[k].append(v.numpy().astype(np.float32))
    return {k: np.concatenate(v) for k, v in outs.items()}


def grouping_spec(cfg: dict[str, Any], model: KLPNet, calibrated: Optional[dict[str, float]] = None) -> GroupingSpec:
    """The config's grouping parameters, the model's learnt link scale/bias, and the thresholds
    chosen on the validation split (``calibrate``) when given."""
    scale, bias = model.link_params()
    g = dict(cfg.get("grouping", {}))
    g.update(calibrated or {})
    return GroupingSpec(link_scale=scale, link_bias=bias, **{k: g[k] for k in (
        "peak_threshold", "max_detections", "link_threshold", "max_link_length", "min_keypoints") if k in g})


def calibrate(model: KLPNet, val: dict[str, np.ndarray], cfg: dict[str, Any]) -> dict[str, Any]:
    """Pick (peak_threshold, link_threshold) on the *validation* split: the grid point with the
    best predicted-identity PCK at alpha (ties: the earlier grid point). Test data is not used."""
    g = cfg.get("grouping", {})
    peaks = g.get("calibrate_peak", [g.get("peak_threshold", 0.3)])
    links = g.get("calibrate_link", [g.get("link_threshold", 0.5)])
    e = cfg.get("eval", {})
    alpha = float(e.get("alpha", 0.1))
    outs = export_outputs(model, val["images"])
    table, best = [], None
    for pt in peaks:
        for lt in links:
            spec = grouping_spec(cfg, model, {"peak_threshold": float(pt), "link_threshold": float(lt)})
            a = evaluate_outputs(outs, val, spec, (alpha,), alpha)["all"]
            row = {"peak_threshold": float(pt), "link_threshold": float(lt), "pck_pred_id": a["pck_pred_id"][f"{alpha:g}"],
                   "link_f1": a["link_f1"], "figure_accuracy": a["figure_accuracy"]}
            table.append(row)
            if best is None or row["pck_pred_id"] > best["pck_pred_id"]:
                best = row
    return {"chosen": {"peak_threshold": best["peak_threshold"], "link_threshold": best["link_threshold"]},
            "criterion": f"validation PCK (predicted identities) at alpha {alpha:g}", "images": len(val["images"]),
            "grid": table}


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


def evaluate_outputs(outputs: dict[str, np.ndarray], data: dict[str, np.ndarray], spec: GroupingSpec,
                     alphas: Sequence[float] = (0.05, 0.1, 0.2), alpha: float = 0.1,
                     skeleton=STICK_FIGURE) -> dict[str, Any]:
    K = skeleton.num_keypoints
    links = skeleton.links
    S = data["images"].shape[-1]
    acc = {lv: {"kp": 0, "kp_vis": 0, "kp_occ": 0, "pred": {a: 0 for a in alphas}, "oracle": {a: 0 for a in alphas},
                "pred_vis": 0, "pred_occ": 0, "oracle_vis": 0, "oracle_occ": 0,
                "tp_links": 0, "pred_links": 0, "gt_links": 0, "figures": 0, "figures_ok": 0, "images": 0,
                "count_ok": 0, "instances": 0, "outliers": 0, "detections": 0} for lv in LEVELS}
    for n in range(len(data["images"])):
        lv = LEVELS[int(data["level"][n])]
        a_ = acc[lv]
        res = group({k: v[n] for k, v in outputs.items()}, spec, links, K)
        kp, present, _ = res.instance_arrays(K)
        nf = int(data["count"][n])
        gt = data["keypoints"][n, :nf] / S
        occ = data["occluded"][n, :nf]
        span = gt.max(1) - gt.min(1)
        diag = np.maximum(np.hypot(span[:, 0], span[:, 1]), 1e-6)
        det = np.array([[d.x, d.y] for d in res.detections]).reshape(-1, 2)
        pairs = dict(match(gt, diag, kp, present))
        a_["images"] += 1
        a_["count_ok"] += int(len(res.instances) == nf)
        a_["instances"] += len(res.instances)
        a_["outliers"] += len(res.outliers)
        a_["detections"] += len(res.detections)
        for f in range(nf):
            m = pairs.get(f)
            ok_all = True
            for t in range(K):
                a_["kp"] += 1
                vis = "occ" if occ[f, t] else "vis"
                a_[f"kp_{vis}"] += 1
                dmin = np.min(np.linalg.norm(det - gt[f, t], axis=1)) / diag[f] if len(det) else np.inf
                dpred = (np.linalg.norm(kp[m, t] - gt[f, t]) / diag[f]) if (m is not None and present[m, t]) else np.inf
                for al in alphas:
                    a_["oracle"][al] += int(dmin <= al)
                    a_["pred"][al] += int(dpred <= al)
                a_[f"oracle_{vis}"] += int(dmin <= alpha)
                a_[f"pred_{vis}"] += int(dpred <= alpha)
                ok_all &= bool(dpred <= alpha)
            a_["figures"] += 1
            a_["figures_ok"] += int(ok_all)
            a_["gt_links"] += len(links)
        for mi, inst in enumerate(res.instances):
            f = next((ff for ff, mm in pairs.items() if mm == mi), None)
            for l, i, j, _ in inst.links:
                a_["pred_links"] += 1
                if f is None:
                    continue
                a, b = links[l]
                ok = (np.linalg.norm(det[i] - gt[f, a]) / diag[f] <= alpha
                      and np.linalg.norm(det[j] - gt[f, b]) / diag[f] <= alpha)
                a_["tp_links"] += int(ok)

    def summary(parts: list[dict]) -> dict[str, Any]:
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
            "link_precision": prec, "link_recall": rec,
            "link_f1": 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0,
            "figure_accuracy": s["figures_ok"] / max(s["figures"], 1),
            "count_accuracy": s["count_ok"] / max(s["images"], 1),
            "mean_instances": s["instances"] / max(s["images"], 1),
            "mean_outliers": s["outliers"] / max(s["images"], 1),
            "mean_detections": s["detections"] / max(s["images"], 1),
        }

    out = {"alpha": alpha, "alphas": list(alphas), "all": summary(list(acc.values()))}
    out["by_level"] = {lv: summary([acc[lv]]) for lv in LEVELS if acc[lv]["images"]}
    return out


def evaluate_model(model: KLPNet, data: dict[str, np.ndarray], cfg: dict[str, Any],
                   calibrated: Optional[dict[str, float]] = None) -> dict[str, Any]:
    spec = grouping_spec(cfg, model, calibrated)
    e = cfg.get("eval", {})
    outs = export_outputs(model, data["images"])
    res = evaluate_outputs(outs, data, spec, tuple(e.get("alphas", (0.05, 0.1, 0.2))), float(e.get("alpha", 0.1)))
    res["grouping"] = spec.to_manifest()
    return res
