"""Regression codec: pixel keypoints <-> normalised (x/W, y/H) targets, flattened x0, y0, x1, ..."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def normalize_keypoints(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    k = np.asarray(keypoints, dtype=np.float64).copy()
    k[..., 0] /= width
    k[..., 1] /= height
    return k


def denormalize_keypoints(norm: np.ndarray, height: int, width: int) -> np.ndarray:
    k = np.asarray(norm, dtype=np.float64).copy()
    k[..., 0] *= width
    k[..., 1] *= height
    return k


@dataclass
class RegressionCodec:
    input_size: tuple[int, int] = (128, 128)
    clip: bool = True  # targets clipped to [0, 1] (the sigmoid head cannot reach outside)

    def encode(self, keypoints: np.ndarray) -> np.ndarray:
        n = normalize_keypoints(keypoints, *self.input_size)
        if self.clip:
            n = np.clip(n, 0.0, 1.0)
        return n.reshape(-1).astype(np.float32)

    def decode(self, coords: np.ndarray) -> np.ndarray:
        """``[..., 2K]`` or ``[..., K, 2]`` normalised -> pixels ``[..., K, 2]``."""
        c = np.asarray(coords, dtype=np.float64)
        if c.shape[-1] != 2 or c.ndim == 1:
            c = c.reshape(*c.shape[:-1], -1, 2)
        return denormalize_keypoints(c, *self.input_size)
