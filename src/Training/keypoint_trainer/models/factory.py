"""Build a model from an experiment spec (see training/experiments.py)."""
from __future__ import annotations

from typing import Any

from torch import nn

from .heatmap_net import HeatmapNet
from .regression_net import RegressionNet
from .simcc_net import SimCCNet


def build_model(spec: dict[str, Any], num_keypoints: int = 5) -> nn.Module:
    kind = spec["kind"]
    if kind == "heatmap":
        return HeatmapNet(num_keypoints, heatmap_size=spec.get("heatmap_size", 64), skip=spec.get("skip", True),
                          context=spec.get("context", 0))
    if kind == "soft_argmax":
        return HeatmapNet(num_keypoints, heatmap_size=spec.get("heatmap_size", 64), skip=spec.get("skip", True),
                          head="soft_argmax", beta=spec.get("beta", 1.0))
    if kind == "simcc":
        return SimCCNet(num_keypoints)
    if kind == "regression":
        return RegressionNet(num_keypoints, dropout=spec.get("dropout", 0.5))
    raise ValueError(f"unknown model kind {kind!r}")
