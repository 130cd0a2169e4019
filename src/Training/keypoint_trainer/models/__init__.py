"""Networks of the seed assignment (HeatmapNet, RegressionNet) and their documented variants."""
from .encoder import Encoder, conv_block
from .factory import build_model
from .heatmap_net import HeatmapNet
from .regression_net import RegressionNet

__all__ = ["Encoder", "conv_block", "HeatmapNet", "RegressionNet", "build_model"]
