"""Metrics: PCK / AUC / pixel errors (``pck``), joint metrics in centimetres and posture accuracy
(``joints``), multi-figure grouping metrics (``grouping``), SSIM (``ssim``), parameters and FLOPs
(``flops``)."""
