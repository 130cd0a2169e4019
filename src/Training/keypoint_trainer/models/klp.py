"""KLPNet-style network for multi-figure stick figures (seed 004, adapted; docs/klpnet.md).

Backbone: the seed encoder (Conv1-4) and HeatmapNet's decoder to 64 x 64 x 32 features
(``models/``), so the first stage is exactly HeatmapNet without its final conv.

Cross-stage keypoint localisation (CKLM, paper Sec. 3.2): ``stages`` refinement stages, each
a small encoder-decoder at 64 x 64 and 32 x 32. Stage s > 1 aggregates the previous stage
(paper Eq. 2-3, T = 1x1 "transmission" conv, C = concatenation)::

    f_fine(64)  = T(C(f_backbone, f_out(s-1)))                 (Eq. 2)
    f_down(32)  = conv_s2(f_fine) + T(f_down(s-1))             (cross-stage at the coarse scale)
    f_out(s)    = T(C(up(f_down(s)), f_fine))                  (Eq. 3)

and predicts the category-implicit heatmap (1 channel, logits; BCE against Gaussian targets
whose kernel shrinks over the stages: 7, 5, 3) and offset maps (dx, dy in cells, Smooth L1).
From the last stage's features plus two coordinate channels (x, y in [0, 1]) two more heads
predict the keypoint type (K-way softmax) and a D-dimensional embedding per cell; the link
module scores detected keypoints with the inner-product decoder A = sigmoid(s * Z Z^T + b)
(a learnt scale s and bias b; paper Eq. 7 is the special case s = 1, b = 0).

Optional (``head_offsets``, off by default so existing checkpoints and exports are unchanged): a
head on the same features predicts, per cell, the offset (dx, dy) in cells from the cell centre to
the head of the figure whose keypoint is there (PersonLab / CenterNet-style votes; codecs/klp.py);
the grouping compares the votes of two detections (codecs/grouping.py, ``head_vote``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .encoder import Encoder
from .heatmap_net import deconv_block
from ..core.errors import ConfigError

@dataclass
class KLPConfig:
    num_types: int = 5
    stages: int = 3
    embed_dim: int = 8
    width: int = 32
    head_offsets: bool = False

    def to_dict(self):
        return asdict(self)


def cbr(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Stage(nn.Module):
    def __init__(self, c: int, first: bool):
        super().__init__()
        self.first = first
        self.trans_in = nn.Conv2d(c if first else 2 * c, c, 1)        # T(C(f_backbone, f_out(s-1)))
        self.fine = cbr(c, c)
        self.down = cbr(c, 2 * c, stride=2)
        self.trans_down = None if first else nn.Conv2d(2 * c, 2 * c, 1)
        self.up = deconv_block(2 * c, c)
        self.trans_out = nn.Conv2d(2 * c, c, 1)                       # T(C(up(f_down), f_fine))
        self.out = cbr(c, c)
        self.heat = nn.Conv2d(c, 1, 1)
        self.offsets = nn.Conv2d(c, 2, 1)

    def forward(self, backbone, prev_out=None, prev_down=None):
        x = backbone if self.first else torch.cat([backbone, prev_out], 1)
        fine = self.fine(self.trans_in(x))
        down = self.down(fine)
        if self.trans_down is not None:
            down = down + self.trans_down(prev_down)
        out = self.out(self.trans_out(torch.cat([self.up(down), fine], 1)))
        return out, down, self.heat(out), self.offsets(out)


def coord_channels(n: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    xs = (torch.arange(w, dtype=like.dtype, device=like.device) + 0.5) / w
    ys = (torch.arange(h, dtype=like.dtype, device=like.device) + 0.5) / h
    gx = xs.view(1, 1, 1, w).expand(n, 1, h, w)
    gy = ys.view(1, 1, h, 1).expand(n, 1, h, w)
    return torch.cat([gx, gy], 1)


class KLPNet(nn.Module):
    def __init__(self, cfg: KLPConfig = KLPConfig()):
        super().__init__()
        if not 1 <= cfg.stages <= 3:
            raise ConfigError("stages must be 1, 2 or 3 (kernels 7, 5, 3)")
        self.cfg = cfg
        c = cfg.width
        self.encoder = Encoder(1)
        self.deconv4 = deconv_block(256, 128)
        self.deconv3 = deconv_block(256, 64)
        self.deconv2 = deconv_block(128, c)
        self.stages = nn.ModuleList([Stage(c, s == 0) for s in range(cfg.stages)])
        self.head_feat = cbr(c + 2, c)
        self.types = nn.Conv2d(c, cfg.num_types, 1)
        self.embed = nn.Conv2d(c, cfg.embed_dim, 1)
        # built only when asked, after the other layers: default models keep their parameters and init
        self.head_offsets = nn.Conv2d(c, 2, 1) if cfg.head_offsets else None
        # link decoder A = sigmoid(scale * z_i . z_j + bias)
        self.link_log_scale = nn.Parameter(torch.zeros(()))
        self.link_bias = nn.Parameter(torch.tensor(-2.0))

    def backbone(self, x):
        f1, f2, f3, f4 = self.encoder(x)
        d = self.deconv3(torch.cat([self.deconv4(f4), f3], 1))
        return self.deconv2(torch.cat([d, f2], 1))

    def forward(self, x) -> dict[str, object]:
        b = self.backbone(x)
        out = down = None
        heats, offs = [], []
        for st in self.stages:
            out, down, h, o = st(b, out, down)
            heats.append(h)
            offs.append(o)
        n, _, hh, ww = out.shape
        f = self.head_feat(torch.cat([out, coord_channels(n, hh, ww, out)], 1))
        o = {"heat_logits": heats, "offsets": offs, "type_logits": self.types(f), "embeddings": self.embed(f)}
        if self.head_offsets is not None:
            o["head_offsets"] = self.head_offsets(f)
        return o

    def link_params(self) -> tuple[float, float]:
        return float(self.link_log_scale.exp()), float(self.link_bias)


EXPORT_OUTPUTS = ("heatmap", "offsets", "types", "embeddings")
HEAD_OFFSETS_OUTPUT = "head_offsets"


def export_output_names(cfg: KLPConfig) -> tuple[str, ...]:
    """The ONNX output names of a model, in graph order."""
    return EXPORT_OUTPUTS + ((HEAD_OFFSETS_OUTPUT,) if cfg.head_offsets else ())


class KLPNetExport(nn.Module):
    """The served graph: heatmap (sigmoid, last stage), offsets, type probabilities, embeddings
    and, when the model has them, head offsets (:func:`export_output_names`)."""

    def __init__(self, model: KLPNet):
        super().__init__()
        self.model = model

    def forward(self, x):
        o = self.model(x)
        out = (torch.sigmoid(o["heat_logits"][-1]), o["offsets"][-1], torch.softmax(o["type_logits"], 1),
               o["embeddings"])
        return out + (o["head_offsets"],) if "head_offsets" in o else out
