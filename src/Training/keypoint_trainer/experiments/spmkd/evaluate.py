"""Evaluation of SPMKD keypoints (labels are used here and only here).

1. Reconstruction: per-map L2 (mean squared error of the normalised 256 x 256 map) and SSIM
   (metrics/ssim.py), on held-out people of the training mat and of the unfamiliar mat.
2. Keypoints, the field's protocol for unsupervised landmarks: a ridge-regularised linear
   map from the K discovered keypoints (normalised x, y) to the 14 joints, fitted on a small
   labelled subset of the training split (size stated in the results; the ridge strength is
   picked by 5-fold cross-validation on that subset only), evaluated on the test splits.
   PCK@0.1 / 0.2 normalised by the torso (thorax to mid-hip) and by the bounding-box
   diagonal of the ground-truth joints (metrics/joints.py, metrics/pck.py), computed in
   physical centimetres (the unfamiliar mat's cells are not square); mean error also in
   sensor cells of the mat in question.
3. Posture (supine / left / right / prone) from keypoints with a small MLP classifier
   (translation-removed, standardised coordinates -> 64 ReLU -> 4), trained on labelled
   maps of the training split, tested within and across mats.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ...data.pressure import load_dataset
from ...data.pressure.splits import DataSpec, SPMKD_INPUT, joints_to_norm, norm_to_cells, to_model_input
from ...metrics.joints import joint_metrics, posture_metrics
from ...metrics.ssim import ssim
from ...models.efd import EFD
from ...models.joint_head import apply_linear_head, fit_linear_head
from ...models.posture import PostureClassifier


def evaluation_data(data_paths: dict[str, Path], spec: DataSpec) -> dict[str, Any]:
    """The labelled splits, and the training maps reduced to the labelled subsets (joint head, posture)."""
    data, info = {}, {}
    for split in ("train", "test", "unf_labelled", "unf_test"):
        data[split], info[split] = load_dataset(data_paths[split])
    lab_perm = np.random.default_rng(7).permutation(len(data["train"]["pressure"]))
    labelled = np.sort(lab_perm[:spec.labelled])
    posture = np.sort(lab_perm[:spec.posture_labelled])
    sub = np.sort(np.union1d(labelled, posture))
    pos_in_sub = {int(v): i for i, v in enumerate(sub)}
    dsub = dict(data)
    dsub["train"] = {k: v[sub] for k, v in data["train"].items()}
    return {"data": data, "info": info, "dsub": dsub, "labelled": labelled, "posture": posture,
            "lab_local": np.array([pos_in_sub[int(v)] for v in labelled]),
            "pos_local": np.array([pos_in_sub[int(v)] for v in posture])}


@torch.no_grad()
def infer(model: EFD, maps: np.ndarray, batch_size: int = 32, keep: Optional[list[int]] = None) -> dict[str, Any]:
    """Keypoints (soft-argmax and hard argmax), reconstruction metrics; ``keep``: indices whose
    input, heatmaps and reconstruction are returned for figures."""
    model.eval()
    soft, hard, l2, ss = [], [], [], []
    kept: dict[str, list] = {"input": [], "recon": [], "heatmaps": [], "index": []}
    keep = set(keep or [])
    for i in range(0, len(maps), batch_size):
        x = to_model_input(maps[i:i + batch_size], SPMKD_INPUT)
        out = model(x)
        r = torch.sigmoid(out["logits"])
        soft.append(out["keypoints"].numpy())
        hl = out["heatmap_logits"]
        n, k, h, w = hl.shape
        idx = hl.reshape(n, k, h * w).argmax(-1)
        hard.append(torch.stack([(idx % w + 0.5) / w, (idx // w + 0.5) / h], -1).numpy())
        l2.append(((r - x) ** 2).flatten(1).mean(1).numpy())
        ss.append(ssim(r, x, reduction="none").numpy())
        for j in range(n):
            if i + j in keep:
                kept["index"].append(i + j)
                kept["input"].append(x[j, 0].numpy())
                kept["recon"].append(r[j, 0].numpy())
                kept["heatmaps"].append(out["heatmaps"][j].numpy())
    return {"keypoints": np.concatenate(soft).astype(np.float64), "keypoints_hard": np.concatenate(hard),
            "l2": np.concatenate(l2), "ssim": np.concatenate(ss), "kept": kept}


# --- one model on all splits -----------------------------------------------------------------

def evaluate_keypoints(kp: dict[str, np.ndarray], data: dict[str, dict], info: dict[str, dict],
                       labelled_idx: np.ndarray, posture_idx: np.ndarray, refit_split: Optional[str] = None,
                       seed: int = 0) -> dict[str, Any]:
    """``kp``: {split: keypoints [N, K, 2] normalised}; ``data``/``info``: loaded datasets.
    Fits the linear head on ``train[labelled_idx]`` and the posture MLP on
    ``train[posture_idx]``; evaluates on ``test`` and ``unf_test``."""
    from ...data.pressure.splits import mat_pitch_cm, mat_shape

    rows, cols = mat_shape(info["train"])
    head = fit_linear_head(kp["train"][labelled_idx], joints_to_norm(data["train"]["joints"][labelled_idx], rows, cols),
                           seed=seed)
    clf = PostureClassifier(seed=seed).fit(kp["train"][posture_idx], data["train"]["posture"][posture_idx])
    out: dict[str, Any] = {"head": {"lambda": head["lambda"], "n": head["n"]}, "splits": {}}
    for split in ("test", "unf_test"):
        if split not in kp:
            continue
        r, c = mat_shape(info[split])
        pred = norm_to_cells(apply_linear_head(head, kp[split]), r, c)
        res = {"joints": joint_metrics(pred, data[split]["joints"], mat_pitch_cm(info[split])),
               "posture": posture_metrics(clf.predict(kp[split]), data[split]["posture"])}
        out["splits"][split] = res
    if refit_split and refit_split in kp and "unf_test" in kp:
        r, c = mat_shape(info[refit_split])
        h2 = fit_linear_head(kp[refit_split], joints_to_norm(data[refit_split]["joints"], r, c), seed=seed)
        r2, c2 = mat_shape(info["unf_test"])
        pred = norm_to_cells(apply_linear_head(h2, kp["unf_test"]), r2, c2)
        # posture likewise: the classifier given the unfamiliar mat's labelled maps beside the SLP ones
        both = PostureClassifier(seed=seed).fit(np.concatenate([kp["train"][posture_idx], kp[refit_split]]),
                                                np.concatenate([data["train"]["posture"][posture_idx],
                                                                data[refit_split]["posture"]]))
        out["splits"]["unf_test_refit"] = {"joints": joint_metrics(pred, data["unf_test"]["joints"],
                                                                   mat_pitch_cm(info["unf_test"])),
                                           "head_n": h2["n"],
                                           "posture": posture_metrics(both.predict(kp["unf_test"]), data["unf_test"]["posture"]),
                                           "posture_slp": posture_metrics(both.predict(kp["test"]), data["test"]["posture"]),
                                           "posture_n": int(len(posture_idx) + len(kp[refit_split]))}
        out["_classifier_both"] = both
    out["_head"] = head
    out["_classifier"] = clf
    return out


def evaluate_joint_predictions(pred_norm: dict[str, np.ndarray], data: dict[str, dict], info: dict[str, dict],
                               posture_idx: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """For models that predict the 14 joints directly (the supervised baseline)."""
    from ...data.pressure.splits import mat_pitch_cm, mat_shape

    clf = PostureClassifier(seed=seed).fit(pred_norm["train"][posture_idx], data["train"]["posture"][posture_idx])
    out: dict[str, Any] = {"splits": {}}
    for split in ("test", "unf_test"):
        if split not in pred_norm:
            continue
        r, c = mat_shape(info[split])
        pred = norm_to_cells(pred_norm[split], r, c)
        out["splits"][split] = {"joints": joint_metrics(pred, data[split]["joints"], mat_pitch_cm(info[split])),
                                "posture": posture_metrics(clf.predict(pred_norm[split]), data[split]["posture"])}
    return out
