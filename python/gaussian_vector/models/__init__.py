"""Torch networks: MobileNetV3 backbones, the FPN decoder, GVNet and the heatmap baseline."""

from .landmark_net import GVNet, HeatmapNet, build_model, count_parameters

__all__ = ["GVNet", "HeatmapNet", "build_model", "count_parameters"]
