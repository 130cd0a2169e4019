"""SimCCNet: the seed's shared encoder with a SimCC head (MMPose ``SimCCHead`` without deconvolution):
Conv1x1(256 -> 4K) on the 8x8 bottleneck, flatten per keypoint (4 x 64 values), a shared
Linear + ReLU (as RTMCC's widening layer), then one Linear per axis to the codec's bins. The forward
returns the x and y logits concatenated, [N, K, 2 bins]; :class:`SimCCCoordinates` is the exported
graph, decoding them (argmax) to ``coords`` [N, 2K] normalised.
"""
from __future__ import annotations

import torch
from torch import nn

from ..codecs.regression import RegressionCodec
from ..codecs.simcc import SimCCCodec
from .encoder import Encoder


class SimCCNet(nn.Module):
    def __init__(self, num_keypoints: int = 5, codec: SimCCCodec = SimCCCodec(), hidden: int = 256,
                 maps_per_keypoint: int = 4):
        super().__init__()
        self.num_keypoints, self.codec = num_keypoints, codec
        self.encoder = Encoder(1)
        self.final = nn.Conv2d(Encoder.channels[-1], num_keypoints * maps_per_keypoint, 1)
        flat = maps_per_keypoint * (codec.input_size[0] // 16) * (codec.input_size[1] // 16)
        # MMPose's RTMCC head widens the flattened features before the per-axis classifiers
        self.mlp = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(inplace=True))
        self.head_x = nn.Linear(hidden, codec.bins)
        self.head_y = nn.Linear(hidden, codec.bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.final(self.encoder(x)[-1]).reshape(x.shape[0], self.num_keypoints, -1)  # [N, K, 4 x 64]
        h = self.mlp(f)
        return torch.cat([self.head_x(h), self.head_y(h)], dim=-1)

    def export_module(self) -> nn.Module:
        return SimCCCoordinates(self)


class SimCCCoordinates(nn.Module):
    """What the service runs: image -> ``coords`` [N, 2K] normalised (a regression output)."""

    def __init__(self, net: SimCCNet):
        super().__init__()
        self.net = net
        self.codec = RegressionCodec(net.codec.input_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.codec.coordinates(self.net(x))
