"""Drawing primitives shared by the synthetic generators (stick figures, multi-figure images).

Anti-aliased strokes as coverage masks evaluated at pixel centres (i + 0.5, j + 0.5), so drawn
geometry follows the service's coordinate convention exactly (docs/model-manifest.md).
"""
from __future__ import annotations

import math

import numpy as np


def uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def rotate(v: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def segment_distance(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    denom = float(ab @ ab) or 1e-12
    t = np.clip(((px - a[0]) * ab[0] + (py - a[1]) * ab[1]) / denom, 0.0, 1.0)
    dx = px - (a[0] + t * ab[0])
    dy = py - (a[1] + t * ab[1])
    return np.sqrt(dx * dx + dy * dy)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (radius 3 sigma, edge padding); sigma <= 0.05 returns the image."""
    if sigma <= 0.05:
        return img
    r = int(math.ceil(3 * sigma))
    k = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma * sigma))
    k /= k.sum()
    pad = np.pad(img, r, mode="edge")
    sw = np.lib.stride_tricks.sliding_window_view
    img = sw(pad, 2 * r + 1, axis=0) @ k          # [S, S + 2r]
    return sw(img, 2 * r + 1, axis=1) @ k         # [S, S]


class Canvas:
    """Coverage mask (0..1) built from anti-aliased strokes at pixel centres."""

    def __init__(self, size: int):
        c = np.arange(size, dtype=np.float64) + 0.5
        self.py, self.px = np.meshgrid(c, c, indexing="ij")
        self.mask = np.zeros((size, size), dtype=np.float64)

    def _cover(self, d: np.ndarray, half_width: float) -> None:
        self.mask = np.maximum(self.mask, np.clip(half_width - d + 0.5, 0.0, 1.0))

    def line(self, a, b, width: float) -> None:
        self._cover(segment_distance(self.px, self.py, np.asarray(a, float), np.asarray(b, float)), width / 2)

    def circle(self, c, r: float, width: float, filled: bool = False) -> None:
        d = np.hypot(self.px - c[0], self.py - c[1])
        self._cover(np.maximum(d - r, 0.0) if filled else np.abs(d - r), width / 2)
