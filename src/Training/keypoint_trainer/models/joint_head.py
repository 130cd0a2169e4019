"""The linear joint head of SPMKD: discovered keypoints -> the 14 SLP joints (manifest ``joints`` block).

A ridge-regularised linear map fitted on a small labelled subset (the ridge strength picked by
5-fold cross-validation on that subset only); weight ``[2J, 2K]`` and bias ``[2J]`` in the
manifest's x/y-interleaved layout, normalised coordinates. The service applies it in C#.
"""
from __future__ import annotations

from typing import Any

import numpy as np


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
