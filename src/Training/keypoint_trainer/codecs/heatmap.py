"""Gaussian heatmap codec (MMPose "MSRAHeatmap"-like, with the service's coordinate convention).

Encoding: keypoint (x, y) in input pixels -> heatmap cell coordinates
u = x / stride_x - 0.5, v = y / stride_y - 0.5, and a unit-peak Gaussian
exp(-((j-u)^2 + (i-v)^2) / (2 sigma^2)) evaluated on every cell (sigma in cells).

* near the border the Gaussian is simply cut by the grid (not renormalised), so the peak
  stays exactly at the keypoint and DARK decoding stays unbiased as long as the peak cell
  is an inner cell;
* a keypoint outside the image but within 3 sigma of the grid keeps its visible tail
  (weight 1): the network learns to push the peak to the edge;
* a keypoint farther than 3 sigma outside the grid, or marked invisible, gets an all-zero
  heatmap and weight 0 (use the weight to mask the loss).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .dark import argmax_2d, dark_refine
from ..core.errors import ConfigError


def gaussian_heatmaps(centers_uv: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """Unit-peak Gaussians at continuous cell coordinates ``[K, 2]`` -> ``[K, H, W]`` float32."""
    c = np.asarray(centers_uv, dtype=np.float64)
    j = np.arange(width, dtype=np.float64)
    i = np.arange(height, dtype=np.float64)
    gx = np.exp(-((j[None, :] - c[:, 0:1]) ** 2) / (2.0 * sigma * sigma))  # [K, W]
    gy = np.exp(-((i[None, :] - c[:, 1:2]) ** 2) / (2.0 * sigma * sigma))  # [K, H]
    return (gy[:, :, None] * gx[:, None, :]).astype(np.float32)


def encode_heatmaps(keypoints: np.ndarray, image_size: tuple[int, int], heatmap_size: tuple[int, int],
                    sigma: float, visible: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``[K, 2]`` (x, y) in pixels of an image (H, W) -> (heatmaps [K, h, w], weights [K])."""
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    H, W = image_size
    h, w = heatmap_size
    u = kp[:, 0] * (w / W) - 0.5
    v = kp[:, 1] * (h / H) - 0.5
    hm = gaussian_heatmaps(np.stack([u, v], axis=1), h, w, sigma)
    margin = 3.0 * sigma
    far = (u < -0.5 - margin) | (u > w - 0.5 + margin) | (v < -0.5 - margin) | (v > h - 0.5 + margin)
    weights = np.ones(len(kp), dtype=np.float32)
    if visible is not None:
        weights *= (np.asarray(visible).reshape(-1) > 0).astype(np.float32)
    weights[far | ~np.isfinite(u) | ~np.isfinite(v)] = 0.0
    hm[weights == 0] = 0.0
    return hm, weights


def decode_heatmaps(heatmaps: np.ndarray, method: str = "dark") -> tuple[np.ndarray, np.ndarray]:
    """``[..., K, h, w]`` -> (normalised keypoints ``[..., K, 2]`` in [0, 1], confidence ``[..., K]``)."""
    hm = np.asarray(heatmaps, dtype=np.float64)
    h, w = hm.shape[-2:]
    px, py, conf = argmax_2d(hm)
    if method == "dark":
        ox, oy = dark_refine(hm, px, py)
    elif method == "argmax":
        ox = np.zeros(px.shape)
        oy = np.zeros(py.shape)
    else:
        raise ConfigError(f"unknown heatmap decoding {method!r}")
    x = (px + ox + 0.5) / w
    y = (py + oy + 0.5) / h
    return np.stack([x, y], axis=-1), conf


@dataclass
class HeatmapCodec:
    """One codec configuration drives training targets, decoding and the manifest (a heatmap
    head owns one: ``models/factory.py``)."""
    input_size: tuple[int, int] = (128, 128)   # (H, W)
    heatmap_size: tuple[int, int] = (64, 64)   # (h, w)
    sigma: float = 2.0
    decode_method: str = "dark"
    output_name: str = "heatmaps"
    task: str = "heatmap"

    @property
    def stride(self) -> float:
        return self.input_size[1] / self.heatmap_size[1]

    def encode(self, keypoints: np.ndarray, visible: Optional[np.ndarray] = None):
        """Keypoints ``[K, 2]`` in input pixels -> (heatmaps ``[K, h, w]``, weights ``[K]``)."""
        return encode_heatmaps(keypoints, self.input_size, self.heatmap_size, self.sigma, visible)

    def target(self, keypoints: np.ndarray) -> np.ndarray:
        """The training target of one image: its heatmaps."""
        return self.encode(keypoints)[0]

    def decode_normalized(self, heatmaps: np.ndarray, method: Optional[str] = None):
        """-> normalised keypoints ``[..., K, 2]`` (x / W, y / H) and confidences ``[..., K]``."""
        return decode_heatmaps(heatmaps, method or self.decode_method)

    def decode(self, heatmaps: np.ndarray, method: Optional[str] = None):
        """-> keypoints in input pixels ``[..., K, 2]`` and confidences."""
        norm, conf = self.decode_normalized(heatmaps, method)
        px = norm.copy()
        px[..., 0] *= self.input_size[1]
        px[..., 1] *= self.input_size[0]
        return px, conf

    def manifest_outputs(self, name: Optional[str] = None) -> dict:
        return {"name": name or self.output_name, "height": int(self.heatmap_size[0]),
                "width": int(self.heatmap_size[1]), "stride": float(self.stride), "sigma": float(self.sigma)}

    def manifest(self) -> dict:
        """The manifest's ``outputs`` entry and ``decoding`` of a model with this head."""
        return {"heatmaps": self.manifest_outputs(), "decoding": {"method": self.decode_method}}
