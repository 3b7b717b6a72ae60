"""Landmark networks: MobileNetV3 + FPN decoder to 1/4 resolution + 1x1 head to K heatmaps.

`GVNet` ends in the Band Pooling Module and returns (x, y) vectors; `HeatmapNet` is the same
network without it (the baseline). Both are built from a `ModelConfig`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..bpm import BandPooling
from ..config import ModelConfig
from .mobilenetv3 import MobileNetV3, conv_bn_act


class FPNDecoder(nn.Module):
    """Top-down path with lateral 1x1 connections, merged by addition, to the stride-4 map.

    Upsampling is nearest x2 (NPU-friendly); each merge is smoothed by a depthwise-separable 3x3.
    """

    def __init__(self, in_channels: list[int], channels: int) -> None:
        super().__init__()
        self.upsample: nn.Module = nn.Upsample(scale_factor=2.0, mode="nearest")  # export may
        # swap it for an equivalent form its target runs faster (gv_export.wrap)
        self.lateral = nn.ModuleList(conv_bn_act(c, channels, 1) for c in in_channels)
        self.smooth = nn.ModuleList(
            nn.Sequential(
                conv_bn_act(channels, channels, 3, groups=channels, act=nn.ReLU(inplace=True)),
                conv_bn_act(channels, channels, 1, act=nn.ReLU(inplace=True)),
            )
            for _ in in_channels[:-1]
        )

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = self.lateral[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            x = self.upsample(x) + self.lateral[i](feats[i])
            x = self.smooth[i](x)
        return x


class HeatmapNet(nn.Module):
    """MobileNetV3 + FPN + 1x1 head: images (N, 3, S, S) -> heatmaps (N, K, S/4, S/4)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = MobileNetV3(config.arch, config.width_mult, config.padding)
        self.decoder = FPNDecoder(self.backbone.out_channels, config.decoder_channels)
        self.head = nn.Conv2d(config.decoder_channels, config.num_landmarks, 1)

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (N, 3, H, W), got {tuple(images.shape)}")
        if images.shape[2] % 32 or images.shape[3] % 32:
            raise ValueError(f"image sides must be multiples of 32, got {tuple(images.shape[2:])}")
        return self.head(self.decoder(self.backbone(images)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.heatmaps(images)


class GVNet(HeatmapNet):
    """The heatmap network followed by BPM: images -> x (N, K, S/4) and y (N, K, S/4)."""

    def __init__(self, config: ModelConfig, bpm_form: str = "separable") -> None:
        super().__init__(config)
        self.bpm = BandPooling(config.bandwidths, config.band_weights, form=bpm_form,
                               edges=config.bpm_edges)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return self.bpm(self.heatmaps(images))


#: head name (`ModelConfig.head`, `heads.HEADS`) -> the network that ends in it
NETWORKS: dict[str, type[HeatmapNet]] = {"gv": GVNet, "heatmap": HeatmapNet}


def build_model(config: ModelConfig) -> HeatmapNet:
    """The network a config describes: GVNet for head 'gv', HeatmapNet for 'heatmap'."""
    return NETWORKS[config.head](config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
