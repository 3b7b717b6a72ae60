"""MobileNetV3 small and large (Howard et al., 2019) as feature extractors, written here because
the torchvision wheel does not import on our machines. Returns features at strides 4, 8, 16, 32.

Only ops that int8 TFLite and the Ethos-U NPU run well: conv, depthwise conv, ReLU, hard-swish,
squeeze-excite with global average pooling and hard-sigmoid.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..config import PADDINGS


class Block(NamedTuple):
    kernel: int
    expand: int
    out: int
    se: bool
    hswish: bool
    stride: int


# (kernel, expanded channels, out channels, squeeze-excite, hard-swish, stride), paper Tables 1-2.
SMALL = [
    Block(3, 16, 16, True, False, 2),  # stride 4
    Block(3, 72, 24, False, False, 2),  # stride 8
    Block(3, 88, 24, False, False, 1),
    Block(5, 96, 40, True, True, 2),  # stride 16
    Block(5, 240, 40, True, True, 1),
    Block(5, 240, 40, True, True, 1),
    Block(5, 120, 48, True, True, 1),
    Block(5, 144, 48, True, True, 1),
    Block(5, 288, 96, True, True, 2),  # stride 32
    Block(5, 576, 96, True, True, 1),
    Block(5, 576, 96, True, True, 1),
]
LARGE = [
    Block(3, 16, 16, False, False, 1),
    Block(3, 64, 24, False, False, 2),  # stride 4
    Block(3, 72, 24, False, False, 1),
    Block(5, 72, 40, True, False, 2),  # stride 8
    Block(5, 120, 40, True, False, 1),
    Block(5, 120, 40, True, False, 1),
    Block(3, 240, 80, False, True, 2),  # stride 16
    Block(3, 200, 80, False, True, 1),
    Block(3, 184, 80, False, True, 1),
    Block(3, 184, 80, False, True, 1),
    Block(3, 480, 112, True, True, 1),
    Block(3, 672, 112, True, True, 1),
    Block(5, 672, 160, True, True, 2),  # stride 32
    Block(5, 960, 160, True, True, 1),
    Block(5, 960, 160, True, True, 1),
]
CONFIGS = {"mobilenetv3_small": SMALL, "mobilenetv3_large": LARGE}


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round channels to a multiple of `divisor`, never below 90% of `v` (as the paper's code)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def same_padding(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding of one axis: (before, after), the odd pixel after."""
    total = max((-(-size // stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding, worked out per input size: on an even input a
    stride-2 convolution pads one pixel less before than after (the grid of the ImageNet weights
    converted in `pretrained`). Same parameters and state-dict keys as `nn.Conv2d`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = same_padding(x.shape[-2], kh, sh)
        left, right = same_padding(x.shape[-1], kw, sw)
        x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def conv_bn_act(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
                act: nn.Module | None = None, padding: str = "torch") -> nn.Sequential:
    """Conv (no bias) + BN (+ activation). `padding` "tf" gives a stride-2 conv TF's SAME padding
    (for odd kernels at stride 1 it equals the symmetric k // 2 of "torch")."""
    if stride > 1 and padding == "tf":
        conv: nn.Conv2d = Conv2dSame(cin, cout, k, stride, 0, groups=groups, bias=False)
    else:
        conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
    layers: list[nn.Module] = [conv, nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        squeeze = make_divisible(channels / 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, b: Block, width_mult: float, padding: str = "torch") -> None:
        super().__init__()
        exp = make_divisible(b.expand * width_mult)
        out = make_divisible(b.out * width_mult)
        act = nn.Hardswish if b.hswish else nn.ReLU
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(conv_bn_act(cin, exp, 1, act=act(inplace=True)))
        layers.append(conv_bn_act(exp, exp, b.kernel, b.stride, groups=exp, act=act(inplace=True),
                                  padding=padding))
        if b.se:
            layers.append(SqueezeExcite(exp))
        layers.append(conv_bn_act(exp, out, 1))
        self.body = nn.Sequential(*layers)
        self.residual = b.stride == 1 and cin == out
        self.out_channels = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV3(nn.Module):
    """Backbone returning the last feature map of each stride 4, 8, 16, 32. `padding` (see
    `config.PADDINGS`) is that of the stride-2 convolutions; it changes no parameter."""

    def __init__(self, arch: str = "mobilenetv3_small", width_mult: float = 1.0,
                 padding: str = "torch") -> None:
        super().__init__()
        if arch not in CONFIGS:
            raise ValueError(f"unknown MobileNetV3 arch {arch!r}; choose from {sorted(CONFIGS)}")
        if not 0.1 <= width_mult <= 4:
            raise ValueError(f"width_mult must be in [0.1, 4], got {width_mult}")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.arch, self.width_mult, self.padding = arch, width_mult, padding
        stem = make_divisible(16 * width_mult)
        self.stem = conv_bn_act(3, stem, 3, 2, act=nn.Hardswish(inplace=True), padding=padding)
        blocks, taps, cin, stride = [], [], stem, 2
        for i, b in enumerate(CONFIGS[arch]):
            blk = InvertedResidual(cin, b, width_mult, padding)
            blocks.append(blk)
            cin = blk.out_channels
            stride *= b.stride
            nxt = CONFIGS[arch][i + 1] if i + 1 < len(CONFIGS[arch]) else None
            if stride >= 4 and (nxt is None or nxt.stride == 2):
                taps.append((i, cin))  # last block before the next downsampling
        self.blocks = nn.ModuleList(blocks)
        self.tap_index = [i for i, _ in taps]
        self.out_channels = [c for _, c in taps]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in self.tap_index:
                feats.append(x)
        return feats
