"""SPMKD (arXiv 2402.14241): self-supervised pressure-map keypoint detection.

Encoder-Fuser-Decoder (``model``), CRWT training (``train``), evaluation (``evaluate``),
the supervised baseline (``baseline``), FLOP counting (``flops``), ONNX export with
manifest and golden samples (``export``), the experiment pipeline (``pipeline``), the
markdown report (``report``) and the CLI / fixture registration (``plugin``).
See docs/spmkd.md.
"""
