"""Synthetic stick-figure data: generator, split writer and ``KeypointDataset``."""
from .generator import GeneratorConfig, render_sample
from .dataset import KeypointDataset

__all__ = ["GeneratorConfig", "render_sample", "KeypointDataset"]
