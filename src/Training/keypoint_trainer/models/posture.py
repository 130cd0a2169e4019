"""The posture head in the manifest (docs/model-manifest.md, "Posture").

The posture classifier of :mod:`.evaluate` (translation-removed keypoints, standardised ->
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

from ..experiments.spmkd.evaluate import PostureClassifier, _posture_features

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
    x = _posture_features(kp_norm)
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
