"""Argmax and DARK sub-pixel refinement, exactly as docs/model-manifest.md ("Heatmap decoding").

Per channel h (H x W), float64:
1. (px, py) = first maximum in row-major order; confidence = h[py, px].
2. DARK: if 1 <= px <= W-2 and 1 <= py <= H-2, L = ln(max(h, 1e-10)) on the 3x3 neighbourhood,
   gradient/Hessian by central differences; when hxx < 0 and det > 0 the Newton offset
   -H^-1 g, each component clamped to [-0.5, 0.5]; otherwise (0, 0).
3. x_norm = (px + ox + 0.5) / W, y_norm = (py + oy + 0.5) / H.
The C# decoder implements the same steps; golden samples check both agree to 0.01 px.
"""
from __future__ import annotations

import numpy as np

LOG_FLOOR = 1e-10


def argmax_2d(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[..., H, W]`` -> (px, py, confidence), each ``[...]``; ties -> first in row-major order."""
    h = np.asarray(heatmaps, dtype=np.float64)
    H, W = h.shape[-2:]
    flat = h.reshape(*h.shape[:-2], H * W)
    idx = np.argmax(flat, axis=-1)  # numpy returns the first maximum
    py, px = np.divmod(idx, W)
    conf = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
    return px.astype(np.int64), py.astype(np.int64), conf


def dark_refine(heatmaps: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel offsets (ox, oy) at integer peaks (px, py) of ``heatmaps [..., H, W]``."""
    h = np.asarray(heatmaps, dtype=np.float64)
    H, W = h.shape[-2:]
    lead = h.shape[:-2]
    hf = h.reshape(-1, H, W)
    pxf = np.asarray(px).reshape(-1)
    pyf = np.asarray(py).reshape(-1)
    ox = np.zeros(pxf.shape, dtype=np.float64)
    oy = np.zeros(pxf.shape, dtype=np.float64)
    inner = (pxf >= 1) & (pxf <= W - 2) & (pyf >= 1) & (pyf <= H - 2)
    if inner.any():
        n = np.nonzero(inner)[0]
        x, y = pxf[n], pyf[n]

        def L(dy: int, dx: int) -> np.ndarray:
            return np.log(np.maximum(hf[n, y + dy, x + dx], LOG_FLOOR))

        c = L(0, 0)
        gx = (L(0, 1) - L(0, -1)) / 2.0
        gy = (L(1, 0) - L(-1, 0)) / 2.0
        hxx = L(0, 1) - 2.0 * c + L(0, -1)
        hyy = L(1, 0) - 2.0 * c + L(-1, 0)
        hxy = (L(1, 1) - L(1, -1) - L(-1, 1) + L(-1, -1)) / 4.0
        det = hxx * hyy - hxy * hxy
        ok = (hxx < 0) & (det > 0)
        safe = np.where(ok, det, 1.0)
        ox_n = np.where(ok, -(hyy * gx - hxy * gy) / safe, 0.0)
        oy_n = np.where(ok, -(hxx * gy - hxy * gx) / safe, 0.0)
        ox[n] = np.clip(ox_n, -0.5, 0.5)
        oy[n] = np.clip(oy_n, -0.5, 0.5)
    return ox.reshape(lead), oy.reshape(lead)
