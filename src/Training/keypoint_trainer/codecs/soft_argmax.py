"""Soft-argmax (integral regression): expected cell coordinate under a spatial softmax.

Returns normalised coordinates with the service convention x_norm = (u + 0.5) / W, so the
result is directly comparable with heatmap decoding and regression outputs.
"""
from __future__ import annotations

import numpy as np


def soft_argmax_2d(logits, beta: float = 1.0):
    """torch: ``[N, K, H, W]`` logits -> ``[N, K, 2]`` normalised (x, y) in (0, 1)."""
    import torch

    n, k, h, w = logits.shape
    p = torch.softmax(logits.reshape(n, k, h * w) * beta, dim=-1).reshape(n, k, h, w)
    xs = (torch.arange(w, dtype=logits.dtype, device=logits.device) + 0.5) / w
    ys = (torch.arange(h, dtype=logits.dtype, device=logits.device) + 0.5) / h
    x = (p.sum(dim=2) * xs).sum(dim=-1)
    y = (p.sum(dim=3) * ys).sum(dim=-1)
    return torch.stack([x, y], dim=-1)


def soft_argmax_2d_np(logits: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """NumPy twin of :func:`soft_argmax_2d` (float64)."""
    z = np.asarray(logits, dtype=np.float64) * beta
    *lead, h, w = z.shape
    z = z.reshape(*lead, h * w)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    p = p.reshape(*lead, h, w)
    xs = (np.arange(w) + 0.5) / w
    ys = (np.arange(h) + 0.5) / h
    return np.stack([(p.sum(-2) * xs).sum(-1), (p.sum(-1) * ys).sum(-1)], axis=-1)
