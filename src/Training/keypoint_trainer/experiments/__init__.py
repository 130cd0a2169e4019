"""The families, each a plan on top of the shared pieces: which data, model (whose head owns its
codec), loss, metrics and report sections, run by the engine. ``stick`` (HeatmapNet vs
RegressionNet), ``spmkd`` (self-supervised pressure-map keypoints), ``multi`` (multi-figure
keypoints with link prediction), ``hsjp`` (jigsaw pretraining). Each registers its command line
in ``commands.py``; no family imports another."""
