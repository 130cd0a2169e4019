"""SPMKD Encoder-Fuser-Decoder (arXiv 2402.14241), sized for CPU training.

* :class:`Encoder` -- MobileNetV3-style (torchvision ``InvertedResidual`` blocks), 1-channel
  256x256 input, output K heatmap logits at stride 4 (64x64) and an F-channel feature map at
  the same resolution. A light FPN-style top-down path (16->32->64) restores resolution for
  the heatmaps; the feature map is computed from the shallow 64x64 level only.
* :class:`Fuser` -- per keypoint: softmax over the heatmap, weighted (soft-argmax) location
  in normalised coordinates (cell u centred at (u+0.5)/W, docs/model-manifest.md) and the
  heatmap-weighted feature vector. ``mode="hard"`` is the ablation: integer argmax location
  (no gradient to the heatmap) and the feature vector at that cell.
* :class:`Decoder` -- a fully connected block from the sparse representation
  ``[K x (2 + F)]`` to a coarse 16x16 grid, then RebuildNet: alternating *expansion* layers
  (transposed conv, x2 resolution) and *exchange* layers (residual 3x3 spatial + 1x1
  channel mixing) up to 128x128, then a fixed bilinear x2 to the 256x256 output. The output
  is a per-pixel logit: stage 1 of CRWT reads it as the presence logit (BCE), stage 2 as
  the pressure ``sigmoid(logit)`` in normalised units (so the classification weights
  transfer unchanged).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.mobilenetv3 import InvertedResidual, InvertedResidualConfig


@dataclass
class ModelConfig:
    num_keypoints: int = 16
    feature_dim: int = 4
    input_size: int = 256
    fc_hidden: int = 256
    dec_channels: tuple = (16, 32, 16, 8)  # at 16, 32, 64, 128
    fuser: str = "soft"  # "soft" | "hard" (ablation)
    coord_encoding: int = 16  # Gaussian RBF centres per axis for the FC input (0 = raw x, y)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dec_channels"] = list(self.dec_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        d = dict(d)
        if "dec_channels" in d:
            d["dec_channels"] = tuple(d["dec_channels"])
        return cls(**d)


def _conv_bn_act(cin, cout, k=3, s=1, act=nn.Hardswish):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), act())


#: (input_c, kernel, expanded_c, out_c, use_se, activation, stride) -- a MobileNetV3-Small-like
#: schedule shortened to 16x16 at the bottom.
ENCODER_BLOCKS = (
    (16, 3, 16, 16, True, "RE", 2),    # 128 -> 64
    (16, 3, 64, 24, False, "RE", 2),   # 64 -> 32
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 96, 40, True, "HS", 2),    # 32 -> 16
    (40, 5, 120, 40, True, "HS", 1),
)


class Encoder(nn.Module):
    """256x256x1 -> (heatmap logits [N,K,64,64], feature map [N,F,64,64])."""

    def __init__(self, num_keypoints: int = 16, feature_dim: int = 4):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.1)
        self.stem = _conv_bn_act(1, 16, 3, 2)  # 256 -> 128
        self.blocks = nn.ModuleList(
            InvertedResidual(InvertedResidualConfig(i, k, e, o, se, a, s, 1, 1.0), norm)
            for (i, k, e, o, se, a, s) in ENCODER_BLOCKS)
        c64, c32, c16 = 16, 24, 40
        w = 24
        self.lat16 = nn.Conv2d(c16, w, 1)
        self.lat32 = nn.Conv2d(c32, w, 1)
        self.lat64 = nn.Conv2d(c64, w, 1)
        self.smooth = nn.Sequential(  # depthwise-separable 3x3 at 64x64
            nn.Conv2d(w, w, 3, 1, 1, groups=w, bias=False), nn.BatchNorm2d(w), nn.Hardswish(),
            nn.Conv2d(w, w, 1, bias=False), nn.BatchNorm2d(w), nn.Hardswish())
        self.heat = nn.Conv2d(w, num_keypoints, 1)
        self.feat = nn.Conv2d(w, feature_dim, 1)
        self.num_keypoints = num_keypoints
        self.feature_dim = feature_dim

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i in (0, 2, 4):
                feats.append(x)
        f64, f32, f16 = feats
        y = self.lat16(f16)
        y = F.interpolate(y, scale_factor=2.0, mode="nearest") + self.lat32(f32)
        l64 = self.lat64(f64)
        y = F.interpolate(y, scale_factor=2.0, mode="nearest") + l64
        y = self.smooth(y)
        # keypoint features come from the shallow 64x64 level only (receptive field ~35 input
        # pixels): they describe the map *around* a keypoint and cannot carry a global code
        # of the whole map past the keypoint bottleneck.
        return self.heat(y), self.feat(l64)


def _grid(h: int, w: int, device, dtype):
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) / h
    return xs, ys


class Fuser(nn.Module):
    """Heatmap logits + feature map -> (keypoints [N,K,2] normalised, features [N,K,F], probs)."""

    def __init__(self, mode: str = "soft"):
        super().__init__()
        if mode not in ("soft", "hard"):
            raise ValueError(mode)
        self.mode = mode

    def forward(self, logits, feat):
        n, k, h, w = logits.shape
        prob = torch.softmax(logits.reshape(n, k, h * w), dim=-1)
        xs, ys = _grid(h, w, logits.device, logits.dtype)
        if self.mode == "soft":
            p2 = prob.reshape(n, k, h, w)
            kx = (p2.sum(dim=2) * xs).sum(-1)
            ky = (p2.sum(dim=3) * ys).sum(-1)
            f = torch.bmm(prob, feat.reshape(n, feat.shape[1], h * w).transpose(1, 2))
        else:  # hard argmax: integer peak, no gradient into the heatmap
            idx = logits.reshape(n, k, h * w).argmax(-1)
            kx = xs[idx % w]
            ky = ys[idx // w]
            fl = feat.reshape(n, feat.shape[1], h * w)
            f = torch.gather(fl, 2, idx[:, None, :].expand(n, fl.shape[1], k)).transpose(1, 2)
        return torch.stack([kx, ky], dim=-1), f, prob.reshape(n, k, h, w)


class ExchangeLayer(nn.Module):
    """Residual spatial (3x3) + channel (1x1) information exchange at constant resolution."""

    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                  nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(x + self.body(x))


class ExpansionLayer(nn.Module):
    """x2 spatial expansion (transposed conv 4x4 stride 2)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout),
                                  nn.ReLU(inplace=True))

    def forward(self, x):
        return self.body(x)


class Decoder(nn.Module):
    """Sparse keypoint representation [N, K, 2+F] -> reconstruction logits [N,1,256,256].

    With ``coord_encoding = R > 0`` each coordinate enters the fully connected block through
    a fixed, differentiable Gaussian radial-basis encoding (R centres (i + 0.5) / R, sigma
    1 / R), so the FC layer can place mass at a keypoint's location directly instead of
    first having to learn that mapping from two raw numbers."""

    def __init__(self, num_keypoints: int, feature_dim: int, fc_hidden: int = 256,
                 channels=(32, 32, 16, 8), out_size: int = 256, coord_encoding: int = 0):
        super().__init__()
        self.coord_encoding = int(coord_encoding)
        per_coord = self.coord_encoding if self.coord_encoding else 1
        if self.coord_encoding:
            self.register_buffer("centres", (torch.arange(self.coord_encoding, dtype=torch.float32) + 0.5)
                                 / self.coord_encoding, persistent=False)
        d_in = num_keypoints * (2 * per_coord + feature_dim)
        c0 = channels[0]
        self.c0 = c0
        if fc_hidden:
            self.fc = nn.Sequential(nn.Linear(d_in, fc_hidden), nn.ReLU(inplace=True),
                                    nn.Linear(fc_hidden, c0 * 16 * 16), nn.ReLU(inplace=True))
        else:
            self.fc = nn.Sequential(nn.Linear(d_in, c0 * 16 * 16), nn.ReLU(inplace=True))
        layers = [ExchangeLayer(c0)]
        for cin, cout in zip(channels[:-1], channels[1:]):
            layers += [ExpansionLayer(cin, cout), ExchangeLayer(cout)]
        self.rebuild = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels[-1], 1, 3, 1, 1)
        self.out_size = out_size
        self.upsample = 16 * 2 ** (len(channels) - 1) != out_size  # static, so tracing needs no shape test

    def encode(self, kpts):
        if not self.coord_encoding:
            return kpts * 2.0 - 1.0
        d = (kpts[..., None] - self.centres) * self.coord_encoding  # [N, K, 2, R]
        return torch.exp(-0.5 * d * d).flatten(2)

    def forward(self, kpts, feats):
        z = torch.cat([self.encode(kpts), feats], dim=-1).flatten(1)
        x = self.fc(z).reshape(z.shape[0], self.c0, 16, 16)
        x = self.head(self.rebuild(x))
        if self.upsample:
            x = F.interpolate(x, size=(self.out_size, self.out_size), mode="bilinear", align_corners=False)
        return x


class EFD(nn.Module):
    """Encoder-Fuser-Decoder. ``forward`` returns a dict with ``logits`` (reconstruction
    logits), ``keypoints`` [N,K,2], ``features`` [N,K,F], ``heatmaps`` (softmax) and
    ``heatmap_logits``."""

    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg.num_keypoints, cfg.feature_dim)
        self.fuser = Fuser(cfg.fuser)
        self.decoder = Decoder(cfg.num_keypoints, cfg.feature_dim, cfg.fc_hidden, cfg.dec_channels,
                               cfg.input_size, cfg.coord_encoding)

    def forward(self, x):
        hl, fm = self.encoder(x)
        kp, f, prob = self.fuser(hl, fm)
        logits = self.decoder(kp, f)
        return {"logits": logits, "keypoints": kp, "features": f, "heatmaps": prob, "heatmap_logits": hl}


class EncoderExport(nn.Module):
    """ONNX graph of the encoder + soft-argmax: input -> (heatmaps softmax, keypoints)."""

    def __init__(self, efd: EFD):
        super().__init__()
        self.encoder = efd.encoder
        self.fuser = Fuser("soft")

    def forward(self, x):
        hl, fm = self.encoder(x)
        kp, _, prob = self.fuser(hl, fm)
        return prob, kp


class ReconstructionExport(nn.Module):
    """ONNX graph of the full EFD: input -> reconstruction in normalised units (sigmoid)."""

    def __init__(self, efd: EFD):
        super().__init__()
        self.efd = efd

    def forward(self, x):
        hl, fm = self.efd.encoder(x)
        kp, f, _ = self.efd.fuser(hl, fm)
        return torch.sigmoid(self.efd.decoder(kp, f))
