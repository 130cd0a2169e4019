"""Multi-figure stick-figure keypoints with link prediction (KLPNet ideas, seed 004).

The data are ``data/multi``, the network ``models/klp.py``, its codec ``codecs/klp.py`` (targets)
and ``codecs/grouping.py`` (the reference grouping step, mirrored in C#), the metrics
``metrics/grouping.py``. Here: ``plan`` (main model and stage ablation), ``train`` (losses, on the
engine's fit loop), ``evaluate`` (threshold calibration on validation, test metrics), ``export``,
``report``, ``pipeline`` and ``commands`` (CLI ``multi ...`` + fixture). See docs/klpnet.md.
"""
