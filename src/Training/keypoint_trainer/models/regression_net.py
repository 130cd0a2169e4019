"""RegressionNet (seed spec): shared encoder -> GAP -> FC(256->128) ReLU Dropout ->
FC(128->64) ReLU Dropout -> FC(64->2K) Sigmoid; output [N, 2K] normalised (x0, y0, x1, ...).

``dropout=0.0`` gives the "stronger baseline" variant (trained with L1 in the ablations).
"""
from __future__ import annotations

import torch
from torch import nn

from .encoder import Encoder


class RegressionNet(nn.Module):
    def __init__(self, num_keypoints: int = 5, dropout: float = 0.5):
        super().__init__()
        self.num_keypoints = num_keypoints
        self.encoder = Encoder(1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(256, 128), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(128, 64), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(64, num_keypoints * 2), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.encoder(x)[-1]
        return self.head(torch.flatten(self.pool(f), 1))
