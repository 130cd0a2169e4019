"""Codecs: training-target encoding and prediction decoding (NumPy; torch twins where needed).

Coordinate convention (docs/model-manifest.md): continuous pixel coordinates, the centre of
pixel i at i + 0.5; heatmap cell u is centred at (u + 0.5) * stride, so a keypoint at pixel
x is encoded at u = x / stride - 0.5 and decoded as x_norm = (u + 0.5) / heatmap_width.
"""
from .dark import dark_refine, argmax_2d
from .heatmap import HeatmapCodec, encode_heatmaps, decode_heatmaps, gaussian_heatmaps
from .regression import RegressionCodec, normalize_keypoints, denormalize_keypoints
from .soft_argmax import soft_argmax_2d, soft_argmax_2d_np

__all__ = ["HeatmapCodec", "encode_heatmaps", "decode_heatmaps", "gaussian_heatmaps", "dark_refine",
           "argmax_2d", "soft_argmax_2d", "soft_argmax_2d_np", "RegressionCodec", "normalize_keypoints",
           "denormalize_keypoints"]
