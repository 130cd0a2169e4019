"""Stick-figure keypoints (seed 001): HeatmapNet vs RegressionNet and their variants.

``plan`` (named experiments), ``train`` (on the engine's fit loop), ``evaluate`` (test metrics,
error sources, figures), ``ablate``, ``export`` (through engine/export.py), ``report`` (sections),
``pipeline`` (all of it), ``fixtures`` and ``commands`` (CLI). See docs/training.md.
"""
