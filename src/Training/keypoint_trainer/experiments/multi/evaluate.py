"""Evaluation of the multi-figure model (docs/klpnet.md, "Metrics"): the model's exported outputs on
a split, grouped with the calibrated thresholds and scored by metrics/grouping.py.

The grouping thresholds (peak, link) and, for a model with head offsets, the head vote's sigma and
weight are chosen on the validation split (:func:`calibrate`); the test split is not used for that.
"""
from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
import torch

from ...codecs.grouping import GroupingSpec, HeadVote, Retype, all_type_pairs
from ...codecs.klp import HEAD
from ...core.keypoints import STICK_FIGURE
from ...metrics.grouping import evaluate_outputs
from ...models.klp import HEAD_OFFSETS_OUTPUT, KLPNet, KLPNetExport, export_output_names
from .train import to_input
from ...core.errors import ConfigError



@torch.no_grad()
def export_outputs(model: KLPNet, images: np.ndarray, bs: int = 32) -> dict[str, np.ndarray]:
    ex = KLPNetExport(model).eval()
    outs: dict[str, list] = {k: [] for k in export_output_names(model.cfg)}
    for i in range(0, len(images), bs):
        res = ex(to_input(images[i:i + bs]))
        for k, v in zip(outs, res):
            outs[k].append(v.numpy().astype(np.float32))
    return {k: np.concatenate(v) for k, v in outs.items()}


def grouping_spec(cfg: dict[str, Any], model: KLPNet, calibrated: Optional[dict[str, Any]] = None) -> GroupingSpec:
    """The config's grouping parameters, the model's learnt link scale/bias, and the thresholds
    (and head-vote sigma/weight) chosen on the validation split (``calibrate``) when given."""
    scale, bias = model.link_params()
    g = dict(cfg.get("grouping", {}))
    calibrated = dict(calibrated or {})
    vote = {**g.get("head_vote", {}), **calibrated.pop("head_vote", {})}
    g.update(calibrated)
    keys = ("peak_threshold", "max_detections", "link_threshold", "max_link_length", "min_keypoints")
    return GroupingSpec(link_scale=scale, link_bias=bias, candidate_links=candidate_links(g),
                        head_vote=head_vote(g, model, vote), retype=retype(g), **{k: g[k] for k in keys if k in g})


def retype(grouping: dict[str, Any]) -> Optional[Retype]:
    """``grouping.retype`` ({min_probability}): detection types decided per figure; None without the table."""
    if "retype" not in grouping:
        return None
    r = grouping["retype"]
    if set(r) != {"min_probability"} or not 0.0 < float(r["min_probability"]) <= 1.0:
        raise ConfigError(f"grouping.retype needs min_probability in (0, 1] and nothing else, not {r}")
    return Retype(min_probability=float(r["min_probability"]))


def head_vote(grouping: dict[str, Any], model: KLPNet, vote: dict[str, Any]) -> Optional[HeadVote]:
    """``grouping.head_vote`` ({sigma, weight}) for a model with head offsets; None without the table."""
    if "head_vote" not in grouping:
        return None
    if not model.cfg.head_offsets:
        raise ConfigError("grouping.head_vote needs a model with head offsets (model.head_offsets = true)")
    if not {"sigma", "weight"} <= set(vote):
        raise ConfigError(f"grouping.head_vote needs sigma and weight, not {sorted(vote)}")
    return HeadVote(output=HEAD_OFFSETS_OUTPUT, head_type=HEAD, sigma=float(vote["sigma"]),
                    weight=float(vote["weight"]))


def vote_grid(cfg: dict[str, Any], model: KLPNet) -> list[dict[str, float]]:
    """The head-vote settings tried by :func:`calibrate`: ``calibrate_vote_sigma`` x ``calibrate_vote_weight``
    (each defaulting to the configured value); [{}] (nothing to choose) without a head vote."""
    g = cfg.get("grouping", {})
    if head_vote(g, model, g.get("head_vote", {})) is None:
        return [{}]
    v = g["head_vote"]
    return [{"sigma": float(s), "weight": float(w)} for s in g.get("calibrate_vote_sigma", [v["sigma"]])
            for w in g.get("calibrate_vote_weight", [v["weight"]])]


def candidate_links(grouping: dict[str, Any]):
    """``grouping.candidate_links``: "skeleton" (None: the manifest's skeleton) or "all_pairs"."""
    kind = grouping.get("candidate_links", "skeleton")
    if kind not in ("skeleton", "all_pairs"):
        raise ConfigError(f"grouping.candidate_links must be 'skeleton' or 'all_pairs', not {kind!r}")
    return all_type_pairs(STICK_FIGURE.num_keypoints) if kind == "all_pairs" else None


def calibrate(model: KLPNet, val: dict[str, np.ndarray], cfg: dict[str, Any], log=print,
              progress_interval: float = 30.0) -> dict[str, Any]:
    """Pick (peak_threshold, link_threshold) and, with a head vote, its (sigma, weight) on the *validation*
    split: the grid point with the best predicted-identity PCK at alpha (ties: the earlier grid point;
    the vote settings vary fastest). Test data is not used. A progress line every ``progress_interval`` s
    (the full grid takes minutes)."""
    g = cfg.get("grouping", {})
    peaks = g.get("calibrate_peak", [g.get("peak_threshold", 0.3)])
    links = g.get("calibrate_link", [g.get("link_threshold", 0.5)])
    e = cfg.get("eval", {})
    alpha = float(e.get("alpha", 0.1))
    outs = export_outputs(model, val["images"])
    table, best = [], None
    votes = vote_grid(cfg, model)
    total, started, last = len(peaks) * len(links) * len(votes), time.monotonic(), time.monotonic()
    for pt in peaks:
        for lt in links:
            for vote in votes:
                chosen = {"peak_threshold": float(pt), "link_threshold": float(lt), **({"head_vote": vote} if vote else {})}
                a = evaluate_outputs(outs, val, grouping_spec(cfg, model, chosen), (alpha,), alpha)["all"]
                row = {**chosen, "pck_pred_id": a["pck_pred_id"][f"{alpha:g}"], "link_f1": a["link_f1"],
                       "figure_accuracy": a["figure_accuracy"]}
                table.append(row)
                if best is None or row["pck_pred_id"] > best["pck_pred_id"]:
                    best = row
                if time.monotonic() - last >= progress_interval:
                    last = time.monotonic()
                    log(f"[multi] calibrating the grouping on {len(val['images'])} validation images: {len(table)}/{total} "
                        f"grid points, best pred-id PCK {best['pck_pred_id']:.3f}, elapsed {last - started:.0f}s")
    return {"chosen": {k: best[k] for k in ("peak_threshold", "link_threshold", "head_vote") if k in best},
            "criterion": f"validation PCK (predicted identities) at alpha {alpha:g}", "images": len(val["images"]),
            "grid": table}


def evaluate_model(model: KLPNet, data: dict[str, np.ndarray], cfg: dict[str, Any],
                   calibrated: Optional[dict[str, float]] = None) -> dict[str, Any]:
    spec = grouping_spec(cfg, model, calibrated)
    e = cfg.get("eval", {})
    outs = export_outputs(model, data["images"])
    res = evaluate_outputs(outs, data, spec, tuple(e.get("alphas", (0.05, 0.1, 0.2))), float(e.get("alpha", 0.1)))
    res["grouping"] = spec.to_manifest()
    return res
