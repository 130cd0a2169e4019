"""Heatmap-Style Jigsaw Puzzles (HSJP, seed 003): self-supervised pretraining of HeatmapNet.

The pretext task's targets and decoding are the jigsaw codec (``codecs/jigsaw.py``). Here:
``plan`` (every pretext run and fine-tune), ``sources`` (unlabelled images), ``train`` (pretext
training and fine-tuning on the engine's fit loop), ``report``, ``pipeline`` and ``commands``
(CLI ``hsjp ...``). See docs/hsjp.md.
"""
