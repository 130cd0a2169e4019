"""SPMKD (arXiv 2402.14241): self-supervised pressure-map keypoint detection.

The Encoder-Fuser-Decoder is ``models/efd.py``, the data ``data/pressure``. Here: CRWT training
(``train``, on the engine's fit loop), the supervised baseline (``baseline``), evaluation
(``evaluate``; metrics/joints.py, the heads of models/joint_head.py and models/posture.py), export
with manifest and golden samples (``export``), the posture head for a published model
(``attach_posture``, which runs the published graph through engine/onnx_graph.py), the experiment pipeline (``pipeline``), the report
(``report``, ``figures``) and the CLI / fixture registration (``commands``). See docs/spmkd.md.
"""
