"""Batched inference and decoding into input pixels with the model's codec (training, evaluation, export)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch


@torch.no_grad()
def predict(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 64, decode: Optional[str] = None,
            keep_outputs: bool = False, codec: Any = None) -> dict[str, Any]:
    """-> {"keypoints": [N, K, 2] model-input pixels, "confidence", "outputs": raw outputs (optional)}.

    ``codec`` defaults to the model's own (``model.codec``, models/factory.py); ``decode``
    overrides its decoder for heatmap models ('dark' or 'argmax')."""
    codec = codec or model.codec
    model.eval()
    outs = [model(images[i:i + batch_size]).numpy() for i in range(0, len(images), batch_size)]
    raw = np.concatenate(outs) if outs else np.zeros((0,))
    kp, conf = codec.decode(raw, decode)
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
