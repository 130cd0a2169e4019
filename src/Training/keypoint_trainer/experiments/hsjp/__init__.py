"""Heatmap-Style Jigsaw Puzzles (HSJP, seed 003): self-supervised pretraining of HeatmapNet.

* ``pretext``  patch split, Fisher-Yates shuffle, N^2 Gaussian target channels, random
               scale/translate/rotate that moves the targets, masked MSE (paper Eq. 2),
               puzzle precision (Eq. 3-5) - pure NumPy (+ the torch loss)
* ``sources``  unlabelled images: stick figures (the training split without labels and an
               extra generated pool) and simulated pressure maps (``pressure/``) when present
* ``train``    pretext training and fine-tuning of HeatmapNet from the pretrained weights
* ``experiments``, ``report``, ``plugin`` (CLI ``hsjp ...``). See docs/hsjp.md.
"""
