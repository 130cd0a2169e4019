"""Regression codec: pixel keypoints <-> normalised (x/W, y/H) targets, flattened x0, y0, x1, ..."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..core.keypoints import denormalize_keypoints, normalize_keypoints


@dataclass
class RegressionCodec:
    """Direct coordinates (RegressionNet, and HeatmapNet's soft-argmax head): targets and
    outputs are normalised (x0, y0, x1, ...), decoded by scaling to the input size."""
    input_size: tuple[int, int] = (128, 128)
    clip: bool = True  # targets clipped to [0, 1] (the sigmoid head cannot reach outside)
    output_name: str = "coords"
    task: str = "regression"
    decode_method: str = "direct"

    def encode(self, keypoints: np.ndarray) -> np.ndarray:
        n = normalize_keypoints(keypoints, *self.input_size)
        if self.clip:
            n = np.clip(n, 0.0, 1.0)
        return n.reshape(-1).astype(np.float32)

    def target(self, keypoints: np.ndarray) -> np.ndarray:
        """The training target of one image: ``[2K]`` normalised coordinates."""
        return self.encode(keypoints)

    def decode_normalized(self, coords: np.ndarray, method: Optional[str] = None):
        """``[..., 2K]`` -> normalised keypoints ``[..., K, 2]`` (float64), no confidence."""
        c = np.asarray(coords)
        return c.reshape(c.shape[0], -1, 2).astype(np.float64), None

    def decode(self, coords: np.ndarray, method: Optional[str] = None):
        """``[..., 2K]`` or ``[..., K, 2]`` normalised -> pixels ``[..., K, 2]`` (and no confidence)."""
        c = np.asarray(coords, dtype=np.float64)
        if c.shape[-1] != 2 or c.ndim == 1:
            c = c.reshape(*c.shape[:-1], -1, 2)
        return denormalize_keypoints(c, *self.input_size), None

    def manifest(self) -> dict:
        return {"coordinates": {"name": self.output_name, "normalized": True}, "decoding": {"method": "direct"}}
