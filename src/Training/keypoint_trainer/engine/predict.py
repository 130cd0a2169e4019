"""Batched inference and decoding into input pixels (shared by training, evaluation, export)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from ..codecs.heatmap import decode_heatmaps


@torch.no_grad()
def predict(model: torch.nn.Module, spec: dict[str, Any], images: torch.Tensor, batch_size: int = 64,
            decode: Optional[str] = None, keep_outputs: bool = False,
            input_size: tuple[int, int] = (128, 128)) -> dict[str, Any]:
    """-> {"keypoints": [N, K, 2] model-input pixels, "outputs": raw outputs (optional)}.

    ``decode`` overrides the spec's decoder for heatmap models ('dark' or 'argmax').
    """
    model.eval()
    outs = []
    for i in range(0, len(images), batch_size):
        outs.append(model(images[i:i + batch_size]).numpy())
    raw = np.concatenate(outs) if outs else np.zeros((0,))
    H, W = input_size
    if spec["kind"] == "heatmap":
        norm, conf = decode_heatmaps(raw, decode or spec.get("decode", "dark"))
    else:
        norm = raw.reshape(raw.shape[0], -1, 2).astype(np.float64)
        conf = None
    kp = norm.copy()
    kp[..., 0] *= W
    kp[..., 1] *= H
    res = {"keypoints": kp, "confidence": conf}
    if keep_outputs:
        res["outputs"] = raw
    return res


@torch.no_grad()
def predict_heatmaps(model: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """Raw heatmaps (logits for the soft-argmax head) of a few images."""
    model.eval()
    if hasattr(model, "heatmaps"):
        return model.heatmaps(images).numpy()
    raise TypeError("model has no heatmaps")
