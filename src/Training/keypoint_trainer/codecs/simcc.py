"""SimCC (Li et al., ECCV 2022; MMPose ``SimCCLabel``): each coordinate is a classification over
``split_ratio`` bins per input pixel, so x and y are two 1-D distributions instead of a 2-D heatmap.

Coordinates follow docs/model-manifest.md: normalised x = pixel_x / W with pixel centres at
i + 0.5. Bin b of an axis with B bins covers [b / B, (b + 1) / B) and is centred at (b + 0.5) / B.
Training targets are the normalised coordinates (as for regression); :class:`SimCCLoss` turns them
into Gaussians of ``sigma`` bins (label smoothing) normalised to sum 1 and compares distributions
(KL). The network's raw output is the x and y logits concatenated, ``[N, K, 2 B]``; the exported
graph decodes them (argmax) to ``coords`` so the service reads a SimCC model as a regression model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ..core.keypoints import denormalize_keypoints
from .regression import RegressionCodec


@dataclass
class SimCCCodec(RegressionCodec):
    split_ratio: float = 2.0    # bins per pixel
    sigma: float = 6.0          # label Gaussian, in bins (3 px at split 2)

    @property
    def bins(self) -> int:
        return int(round(self.input_size[1] * self.split_ratio))

    def labels(self, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[N, 2K] normalised (x0, y0, ...) -> x and y labels [N, K, bins], each row summing to 1."""
        xy = coords.reshape(coords.shape[0], -1, 2) * self.bins - 0.5      # continuous bin index
        centres = torch.arange(self.bins, dtype=coords.dtype, device=coords.device)
        g = torch.exp(-0.5 * ((centres - xy[..., None]) / self.sigma) ** 2)  # [N, K, 2, bins]
        g = g / g.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        return g[:, :, 0], g[:, :, 1]

    def coordinates(self, logits: torch.Tensor) -> torch.Tensor:
        """Concatenated logits [N, K, 2 bins] -> [N, 2K] normalised (argmax bin centre, as MMPose)."""
        b = self.bins
        x = (torch.argmax(logits[..., :b], dim=-1).to(logits.dtype) + 0.5) / b
        y = (torch.argmax(logits[..., b:], dim=-1).to(logits.dtype) + 0.5) / b
        return torch.stack([x, y], dim=-1).flatten(1)

    def decode_normalized(self, logits: np.ndarray, method: Optional[str] = None):
        b = self.bins
        x = (np.argmax(logits[..., :b], axis=-1) + 0.5) / b
        y = (np.argmax(logits[..., b:], axis=-1) + 0.5) / b
        return np.stack([x, y], axis=-1).astype(np.float64), None

    def decode(self, logits: np.ndarray, method: Optional[str] = None):
        """Raw logits [N, K, 2 bins] -> pixels [N, K, 2] (and no confidence)."""
        norm, _ = self.decode_normalized(np.asarray(logits))
        return denormalize_keypoints(norm, *self.input_size), None


class SimCCLoss(torch.nn.Module):
    """KL divergence between the predicted softmax(beta * logits) and the codec's label
    distributions, averaged over keypoints and axes (MMPose ``KLDiscretLoss``)."""

    def __init__(self, codec: SimCCCodec, beta: float = 10.0):
        super().__init__()
        self.codec, self.beta = codec, beta

    def forward(self, logits: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        b = self.codec.bins
        tx, ty = self.codec.labels(coords)
        loss = 0.0
        for pred, target in ((logits[..., :b], tx), (logits[..., b:], ty)):
            logp = torch.log_softmax(pred * self.beta, dim=-1)
            loss = loss + (target * (torch.log(target.clamp_min(1e-12)) - logp)).sum(-1).mean()
        return loss / 2
