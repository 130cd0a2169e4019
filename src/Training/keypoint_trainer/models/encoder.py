"""Shared encoder (seed spec): Conv1..Conv4, each Conv3x3 -> BN -> ReLU -> MaxPool2.

[N,1,128,128] -> c1 [N,32,64,64] -> c2 [N,64,32,32] -> c3 [N,128,16,16] -> c4 [N,256,8,8]
"""
from __future__ import annotations

import torch
from torch import nn


def conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2))


class Encoder(nn.Module):
    channels = (32, 64, 128, 256)

    def __init__(self, in_channels: int = 1):
        super().__init__()
        c = self.channels
        self.conv1 = conv_block(in_channels, c[0])
        self.conv2 = conv_block(c[0], c[1])
        self.conv3 = conv_block(c[1], c[2])
        self.conv4 = conv_block(c[2], c[3])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.conv1(x)
        f2 = self.conv2(f1)
        f3 = self.conv3(f2)
        f4 = self.conv4(f3)
        return [f1, f2, f3, f4]
