"""Synthetic stick-figure data: generator, split writer and ``KeypointDataset``."""
from .dataset import KeypointDataset
from .generator import GeneratorConfig, render_sample

__all__ = ["GeneratorConfig", "render_sample", "KeypointDataset"]
