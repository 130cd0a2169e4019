"""HeatmapNet (seed spec) and options.

Default (``heatmap_size=64, skip=True``), exactly the seed's decoder:
  Deconv4 ConvT(256->128) BN ReLU (8->16) ; concat Conv3 (128) -> 256
  Deconv3 ConvT(256->64)  BN ReLU (16->32); concat Conv2 (64)  -> 128
  Deconv2 ConvT(128->32)  BN ReLU (32->64)
  Final   Conv1x1(32->K), no activation  -> [N, K, 64, 64]
ConvTranspose layers use kernel 4, stride 2, padding 1 (exact 2x upsampling).

Options (ablations / variants, documented in docs/training.md):
* ``skip=False``: no concatenations (Deconv3 takes 128, Deconv2 takes 64 channels).
* ``heatmap_size=32``: the final conv is applied after Deconv3 (+ Conv2 skip): Conv1x1(128->K).
* ``heatmap_size=128``: one more stage Deconv1 ConvT(32->32) BN ReLU (64->128) before the final conv.
* ``context=N`` (variant, not seed): N residual dilated 3x3 conv blocks (dilation 2, 4, ...) on the
  8x8 bottleneck before Deconv4, so every heatmap cell sees the whole 128x128 image (the seed's
  bottleneck sees about 60 px) -- meant for telling a distractor stroke's end from a limb's end.
* ``head='soft_argmax'``: integral regression; the heatmaps are treated as logits and the
  forward returns normalised coordinates [N, 2K] from a spatial soft-argmax (beta).
"""
from __future__ import annotations

import torch
from torch import nn

from ..codecs.soft_argmax import soft_argmax_2d
from .encoder import Encoder
from ..core.errors import ConfigError


def deconv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ContextBlock(nn.Module):
    """Residual dilated 3x3 conv (keeps shape; the identity path keeps the seed's features)."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class HeatmapNet(nn.Module):
    def __init__(self, num_keypoints: int = 5, heatmap_size: int = 64, skip: bool = True,
                 head: str = "heatmap", beta: float = 1.0, context: int = 0):
        super().__init__()
        if heatmap_size not in (32, 64, 128):
            raise ConfigError("heatmap_size must be 32, 64 or 128 for a 128x128 input")
        if head not in ("heatmap", "soft_argmax"):
            raise ConfigError(f"unknown head {head!r}")
        self.num_keypoints = num_keypoints
        self.heatmap_size = heatmap_size
        self.skip = skip
        self.head = head
        self.beta = beta
        self.encoder = Encoder(1)
        if context < 0:
            raise ConfigError("context must be >= 0")
        # dilations 2, 4, 8, ...: two blocks already span the 8x8 bottleneck
        self.context = nn.Sequential(*(ContextBlock(Encoder.channels[-1], 2 ** (i + 1)) for i in range(context)))
        self.deconv4 = deconv_block(256, 128)
        self.deconv3 = deconv_block(256 if skip else 128, 64)
        if heatmap_size == 32:
            self.deconv2 = None
            self.final = nn.Conv2d(128 if skip else 64, num_keypoints, 1)
        else:
            self.deconv2 = deconv_block(128 if skip else 64, 32)
            self.deconv1 = deconv_block(32, 32) if heatmap_size == 128 else None
            self.final = nn.Conv2d(32, num_keypoints, 1)

    def heatmaps(self, x: torch.Tensor) -> torch.Tensor:
        f1, f2, f3, f4 = self.encoder(x)
        d = self.deconv4(self.context(f4))
        if self.skip:
            d = torch.cat([d, f3], dim=1)
        d = self.deconv3(d)
        if self.skip:
            d = torch.cat([d, f2], dim=1)
        if self.deconv2 is not None:
            d = self.deconv2(d)
            if self.deconv1 is not None:
                d = self.deconv1(d)
        return self.final(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hm = self.heatmaps(x)
        if self.head == "soft_argmax":
            return soft_argmax_2d(hm, self.beta).reshape(hm.shape[0], -1)
        return hm
