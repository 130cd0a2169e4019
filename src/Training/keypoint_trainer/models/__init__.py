"""Networks of the seed assignment (HeatmapNet, RegressionNet) and their documented variants."""
from .encoder import Encoder, conv_block
from .heatmap_net import HeatmapNet
from .regression_net import RegressionNet
from .factory import build_model

__all__ = ["Encoder", "conv_block", "HeatmapNet", "RegressionNet", "build_model"]
