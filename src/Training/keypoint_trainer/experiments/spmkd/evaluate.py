"""Evaluation of SPMKD keypoints (labels are used here and only here).

1. Reconstruction: per-map L2 (mean squared error of the normalised 256 x 256 map) and SSIM
   (:mod:`.ssim`), on held-out people of the training mat and of the unfamiliar mat.
2. Keypoints, the field's protocol for unsupervised landmarks: a ridge-regularised linear
   map from the K discovered keypoints (normalised x, y) to the 14 joints, fitted on a small
   labelled subset of the training split (size stated in the results; the ridge strength is
   picked by 5-fold cross-validation on that subset only), evaluated on the test splits.
   PCK@0.1 / 0.2 normalised by the torso (thorax to mid-hip) and by the bounding-box
   diagonal of the ground-truth joints (keypoint_trainer.evaluation.metrics), computed in
   physical centimetres (the unfamiliar mat's cells are not square); mean error also in
   sensor cells of the mat in question.
3. Posture (supine / left / right / prone) from keypoints with a small MLP classifier
   (translation-removed, standardised coordinates -> 64 ReLU -> 4), trained on labelled
   maps of the training split, tested within and across mats.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from ...metrics.pck import compute_pck
from ...core.keypoints import get_skeleton
from ...data.pressure.splits import SPMKD_INPUT, joints_to_norm, norm_to_cells, to_model_input
from ...models.efd import EFD
from ...metrics.ssim import ssim

SLP14 = get_skeleton("slp14")
PCK_THRESHOLDS = (0.1, 0.2)


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


# --- linear joint head -------------------------------------------------------------------

def _ridge(X: np.ndarray, Y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    mx, my = X.mean(0), Y.mean(0)
    Xc, Yc = X - mx, Y - my
    A = Xc.T @ Xc + lam * len(X) * np.eye(X.shape[1])
    Wt = np.linalg.solve(A, Xc.T @ Yc)  # [2K, 2J]
    return Wt.T, my - mx @ Wt


def fit_linear_head(kp_norm: np.ndarray, joints_norm: np.ndarray,
                    lambdas=(1e-6, 1e-5, 1e-4, 1e-3, 1e-2), folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Keypoints ``[N, K, 2]`` -> joints ``[N, J, 2]`` (normalised). Returns ``weight``
    [2J, 2K], ``bias`` [2J] in the manifest's x/y-interleaved layout and the chosen lambda."""
    X = np.asarray(kp_norm, np.float64).reshape(len(kp_norm), -1)
    Y = np.asarray(joints_norm, np.float64).reshape(len(joints_norm), -1)
    perm = np.random.default_rng(seed).permutation(len(X))
    parts = np.array_split(perm, folds)
    cv = {}
    for lam in lambdas:
        err = []
        for f in range(folds):
            te = parts[f]
            tr = np.concatenate([parts[g] for g in range(folds) if g != f])
            W, b = _ridge(X[tr], Y[tr], lam)
            err.append(((X[te] @ W.T + b - Y[te]) ** 2).mean())
        cv[lam] = float(np.mean(err))
    best = min(cv, key=cv.get)
    W, b = _ridge(X, Y, best)
    return {"weight": W, "bias": b, "lambda": best, "cv_mse": cv, "n": len(X)}


def apply_linear_head(head: dict, kp_norm: np.ndarray) -> np.ndarray:
    X = np.asarray(kp_norm, np.float64).reshape(len(kp_norm), -1)
    Y = X @ np.asarray(head["weight"]).T + np.asarray(head["bias"])
    return Y.reshape(len(X), -1, 2)


# --- keypoint metrics ------------------------------------------------------------------------

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


# --- posture classifier -----------------------------------------------------------------------

def _posture_features(kp: np.ndarray) -> np.ndarray:
    kp = np.asarray(kp, np.float64)
    return (kp - kp.mean(axis=1, keepdims=True)).reshape(len(kp), -1)


class PostureClassifier:
    """Small MLP on translation-removed keypoint coordinates (deterministic, full batch)."""

    def __init__(self, hidden: int = 64, iters: int = 500, lr: float = 1e-2, weight_decay: float = 1e-3,
                 seed: int = 0, num_classes: int = 4):
        self.hidden, self.iters, self.lr, self.wd, self.seed, self.c = hidden, iters, lr, weight_decay, seed, num_classes

    def fit(self, kp: np.ndarray, labels: np.ndarray) -> "PostureClassifier":
        X = _posture_features(kp)
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-8
        g = torch.Generator().manual_seed(self.seed)
        d = X.shape[1]
        self.net = torch.nn.Sequential(torch.nn.Linear(d, self.hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(self.hidden, self.c))
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / np.sqrt(p.shape[-1])))
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, weight_decay=self.wd)
        xt = torch.tensor((X - self.mu) / self.sd, dtype=torch.float32)
        yt = torch.tensor(np.asarray(labels), dtype=torch.long)
        for _ in range(self.iters):
            loss = torch.nn.functional.cross_entropy(self.net(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return self

    @torch.no_grad()
    def predict(self, kp: np.ndarray) -> np.ndarray:
        X = (_posture_features(kp) - self.mu) / self.sd
        return self.net(torch.tensor(X, dtype=torch.float32)).argmax(-1).numpy()


def posture_metrics(pred: np.ndarray, labels: np.ndarray, num_classes: int = 4) -> dict[str, Any]:
    cm = np.zeros((num_classes, num_classes), dtype=int)
    for p, t in zip(pred, labels):
        cm[int(t), int(p)] += 1
    return {"accuracy": float((np.asarray(pred) == np.asarray(labels)).mean()), "confusion": cm.tolist()}


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
        out["splits"]["unf_test_refit"] = {"joints": joint_metrics(pred, data["unf_test"]["joints"],
                                                                   mat_pitch_cm(info["unf_test"])),
                                           "head_n": h2["n"]}
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
