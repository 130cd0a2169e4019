"""Build a stick-figure model from an experiment spec (experiments/stick/plan.py); its head owns its codec.

``model.codec`` is the one codec of the model: training targets (``codec.target``), decoding of
its outputs (``codec.decode``) and the manifest's ``outputs``/``decoding`` (``codec.manifest``)
all come from it, so they cannot drift apart.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from ..codecs.heatmap import HeatmapCodec
from ..codecs.regression import RegressionCodec
from ..codecs.simcc import SimCCCodec
from .heatmap_net import HeatmapNet
from .regression_net import RegressionNet
from .simcc_net import SimCCNet
from ..core.errors import ConfigError

INPUT_SIZE = (128, 128)


def build_codec(spec: dict[str, Any], input_size: tuple[int, int] = INPUT_SIZE) -> HeatmapCodec | RegressionCodec:
    """Heatmap models: Gaussian heatmaps (size, sigma, decoder of the spec); regression and
    soft-argmax models: normalised coordinates; SimCC: coordinate targets, 1-D bin logits decoded."""
    if spec["kind"] == "heatmap":
        hs = int(spec.get("heatmap_size", 64))
        return HeatmapCodec(input_size, (hs, hs), float(spec.get("sigma", 2.0)), spec.get("decode", "dark"))
    if spec["kind"] in ("regression", "soft_argmax"):
        return RegressionCodec(input_size)
    if spec["kind"] == "simcc":
        return SimCCCodec(input_size)
    raise ConfigError(f"unknown model kind {spec['kind']!r}")


def build_model(spec: dict[str, Any], num_keypoints: int = 5) -> nn.Module:
    kind = spec["kind"]
    if kind == "heatmap":
        model = HeatmapNet(num_keypoints, heatmap_size=spec.get("heatmap_size", 64), skip=spec.get("skip", True),
                           context=spec.get("context", 0))
    elif kind == "soft_argmax":
        model = HeatmapNet(num_keypoints, heatmap_size=spec.get("heatmap_size", 64), skip=spec.get("skip", True),
                           head="soft_argmax", beta=spec.get("beta", 1.0))
    elif kind == "simcc":
        model = SimCCNet(num_keypoints, codec=build_codec(spec))
    elif kind == "regression":
        model = RegressionNet(num_keypoints, dropout=spec.get("dropout", 0.5))
    else:
        raise ConfigError(f"unknown model kind {kind!r}")
    model.codec = build_codec(spec)
    return model
