"""The posture head in the manifest (docs/model-manifest.md, "Posture").

The posture classifier (:class:`PostureClassifier`: translation-removed keypoints, standardised ->
64 ReLU -> 4) is exported as a manifest block the service applies in C#
(src/Models/Processing/PostureHead.cs), like the linear ``joints`` head:

* ``classes``   class names in output order;
* ``features``  ``centered_keypoints``: the K normalised keypoints minus their mean,
  interleaved ``[x0, y0, x1, y1, ...]``;
* ``layers``    dense layers ``y = act(W x + b)``, ``activation`` ``relu`` or ``none``; the
  classifier's standardisation is folded into the first layer (W' = W / sd, b' = b - W' mu).

Probabilities are the softmax of the last layer; the label is the most probable class (first on
ties).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..engine.fit import Sampler, fit
from ..engine.schedules import constant


def posture_features(kp: np.ndarray) -> np.ndarray:
    kp = np.asarray(kp, np.float64)
    return (kp - kp.mean(axis=1, keepdims=True)).reshape(len(kp), -1)


class PostureClassifier:
    """Small MLP on translation-removed keypoint coordinates (deterministic, full batch)."""

    def __init__(self, hidden: int = 64, iters: int = 500, lr: float = 1e-2, weight_decay: float = 1e-3,
                 seed: int = 0, num_classes: int = 4):
        self.hidden, self.iters, self.lr, self.wd, self.seed, self.c = hidden, iters, lr, weight_decay, seed, num_classes

    def fit(self, kp: np.ndarray, labels: np.ndarray) -> "PostureClassifier":
        X = posture_features(kp)
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
        # full batch in a fixed order: the sampler's indices are not used
        fit(self.net, lambda idx, step: (torch.nn.functional.cross_entropy(self.net(xt), yt), {}), optimizer=opt,
            sampler=Sampler(len(xt), len(xt), self.seed), steps=self.iters, lr=constant(self.lr), out_dir=None,
            label="[posture]", progress_interval=None, log=lambda *a: None)
        return self

    @torch.no_grad()
    def predict(self, kp: np.ndarray) -> np.ndarray:
        X = (posture_features(kp) - self.mu) / self.sd
        return self.net(torch.tensor(X, dtype=torch.float32)).argmax(-1).numpy()


#: wire names of the simulator's posture classes (pressure.body.POSTURES order)
POSTURE_CLASSES = ("supine", "left_side", "right_side", "prone")


def posture_block(clf: PostureClassifier, classes=POSTURE_CLASSES) -> dict[str, Any]:
    lin1, lin2 = clf.net[0], clf.net[2]
    w1 = lin1.weight.detach().double().numpy()
    b1 = lin1.bias.detach().double().numpy()
    w2 = lin2.weight.detach().double().numpy()
    b2 = lin2.bias.detach().double().numpy()
    if w2.shape[0] != len(classes):
        raise ValueError(f"classifier has {w2.shape[0]} outputs, {len(classes)} class names given")
    w1f = w1 / clf.sd[None, :]
    b1f = b1 - w1f @ clf.mu
    return {"classes": list(classes), "features": "centered_keypoints",
            "layers": [{"weight": w1f.round(10).tolist(), "bias": b1f.round(10).tolist(), "activation": "relu"},
                       {"weight": w2.round(10).tolist(), "bias": b2.round(10).tolist(), "activation": "none"}]}


def apply_posture_head(block: dict[str, Any], kp_norm: np.ndarray) -> np.ndarray:
    """Keypoints ``[N, K, 2]`` (normalised) -> class probabilities ``[N, C]`` (float64), exactly
    as the service computes them."""
    if block["features"] != "centered_keypoints":
        raise ValueError(f"unknown posture features {block['features']!r}")
    x = posture_features(kp_norm)
    for layer in block["layers"]:
        x = x @ np.asarray(layer["weight"], np.float64).T + np.asarray(layer["bias"], np.float64)
        if layer["activation"] == "relu":
            x = np.maximum(x, 0.0)
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def posture_of(block: dict[str, Any], kp_norm: np.ndarray) -> list[dict[str, Any]]:
    """Per map: ``{"label": name, "probabilities": {name: p}}`` (the golden samples' form)."""
    probs = apply_posture_head(block, kp_norm)
    return [{"label": block["classes"][int(np.argmax(p))],
             "probabilities": {c: round(float(v), 8) for c, v in zip(block["classes"], p)}} for p in probs]
