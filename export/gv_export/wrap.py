"""The graph that gets exported: a trained model wrapped so its inputs and outputs are the ones the
runtime contract (`gaussian_vector.metadata`) names.

- Input: the normalised crop, NHWC for TFLite (what NPUs and LiteRT want, and what a cv2 crop
  already is) or NCHW for ONNX (what ONNX Runtime runs natively, and what
  `gaussian_vector.preprocess.normalise` returns). Normalisation stays outside the graph, so the
  metadata's mean/std mean the same thing for every format.
- Output, as the head packs it (`PACKINGS`): GV ONE (N, K, W + H), x first; heatmap (N, K, H, W).

The GV graph ends in the Band Pooling Module in its separable form (a mean, then one short 1-D
filter), written for the Ethos-U NPU (vela cycle counts in docs/export.md):

- the means are explicit depthwise convolutions with 1/H taps (one op each, no MEAN lowering
  with a separate rescale);
- x and y share every later op: the mean over H (N, C, 1, W) and the mean over W, laid out as
  (N, C, 1, H), are stacked into (N, C, 2, W);
- form "fused" (the default) takes the means of the decoder features and applies the 1 x 1 head
  to the two rows only. The head is affine per pixel and the means are averages, so
  mean(head(f)) == head(mean(f)) exactly: the same function without computing the full K x H x W
  heatmap, which the GV output never needs. Form "separable" keeps head -> means -> filter;
- filter "fc" (the default): ONE transpose of the small (2W, K) tensor to (K, 2, W), then the
  1-D filter as a fully connected layer with the constant W x W band matrix
  (`gaussian_vector.bpm.band_matrix`: the combined taps, rows rescaled for "valid" edges), which
  leaves the contract's (N, K, W + H) directly. Filter "conv": one depthwise 1 x L convolution
  padded along the last axis only (so the rows never leak into each other), a Mul by the edge
  scales for "valid" edges (20k cycles on the U55: broadcasting is slow there), then the
  transpose.

Both forms compute `BandPooling(form="separable")` of the heatmaps (tests pin that down).

`Graph` holds the choices that change the graph but not the function, which each target sets its
own way (`gv_export.targets`; measurements in docs/export.md):

- `hardswish`: "op" keeps nn.Hardswish (one HARD_SWISH op in TFLite, cheap on the Ethos-U);
  "relu6" writes x * relu6(x + c) / 6 with c = 3.0000002, a float the converter does not
  pattern-match back into HARD_SWISH, so int8 XNNPACK (which has no int8 HARD_SWISH) keeps it;
- `means`: "conv" takes the BPM means as depthwise convolutions with 1/H taps (the Ethos-U's
  cheapest form); "mean" as MEAN ops (XNNPACK runs 64-tap depthwise convolutions slowly).
- `squeeze`: "mean" keeps the squeeze-excite blocks' global average as traced (a mean);
  "pool" writes it as one average pool over the map (rknn keeps it on the rk3566's NPU);
- `filter`: "fc" runs the BPM's 1-D filter as the band matrix; "conv" as the depthwise 1 x L
  convolution (in NCHW its (N, K, 2, W) result is the contract's layout after a reshape).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gaussian_vector.bpm import band_matrix, combined_kernel, edge_scales
from gaussian_vector.config import ModelConfig
from gaussian_vector.heads import HEADS, head_of
from gaussian_vector.models import HeatmapNet

from .repair import open_constant_gates

LAYOUTS = ("NHWC", "NCHW")
BPM_FORMS = ("fused", "separable")
HARDSWISH_FORMS = ("op", "relu6")
MEAN_FORMS = ("conv", "mean")
UPSAMPLE_FORMS = ("resize", "copy")
SQUEEZE_FORMS = ("mean", "pool")
FILTER_FORMS = ("fc", "conv")
#: 3 + one float32 ulp: the converter fuses x * relu6(x + 3) / 6 back into HARD_SWISH, not this
RELU6_SHIFT = 3.0000002


@dataclass(frozen=True)
class Graph:
    """Graph-shape choices that leave the function unchanged (module docstring)."""

    bpm: str = "fused"
    hardswish: str = "op"
    means: str = "conv"
    upsample: str = "resize"
    squeeze: str = "mean"  # SE blocks' global average: as traced (a mean) or "pool"
    filter: str = "fc"  # the BPM's 1-D filter: band matrix ("fc") or depthwise 1 x L "conv"

    def __post_init__(self) -> None:
        for name, value, allowed in (("BPM form", self.bpm, BPM_FORMS),
                                     ("hardswish form", self.hardswish, HARDSWISH_FORMS),
                                     ("means form", self.means, MEAN_FORMS),
                                     ("upsample form", self.upsample, UPSAMPLE_FORMS),
                                     ("squeeze form", self.squeeze, SQUEEZE_FORMS),
                                     ("filter form", self.filter, FILTER_FORMS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")

    def to_dict(self) -> dict[str, str]:
        return {"bpm": self.bpm, "hardswish": self.hardswish, "means": self.means,
                "upsample": self.upsample, "squeeze": self.squeeze, "filter": self.filter}


class Relu6Hardswish(nn.Module):
    """h-swish as x * relu6(x + RELU6_SHIFT) / 6: ops XNNPACK runs in int8."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.relu6(x + RELU6_SHIFT) * (1.0 / 6.0)


class CopyUpsample(nn.Module):
    """Nearest-neighbour x2 as copies: each pixel, then each row, stacked beside itself, written
    in the device (NHWC) order where both are a concatenation and a free reshape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        y = x.permute(0, 2, 3, 1)  # (N, H, W, C)
        y = torch.stack([y, y], dim=3).reshape(-1, h, 2 * w, c)
        y = torch.stack([y, y], dim=2).reshape(-1, 2 * h, 2 * w, c)
        return y.permute(0, 3, 1, 2)


class WholeMapPool(nn.Module):
    """The squeeze-excite global average as one average pool over the whole map: rknn runs it
    on the NPU, where the traced ReduceMean becomes reshapes and transposes that the rk3566
    leaves on its CPU (docs/npu.md)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, tuple(x.shape[-2:]))


def rewrite(model: nn.Module, graph: Graph) -> nn.Module:
    """`model`, or a copy with the layers `graph` writes another way replaced."""
    swaps = {nn.Hardswish: Relu6Hardswish if graph.hardswish == "relu6" else None,
             nn.Upsample: CopyUpsample if graph.upsample == "copy" else None,
             nn.AdaptiveAvgPool2d: WholeMapPool if graph.squeeze == "pool" else None}
    if not any(swaps.values()):
        return model
    model = copy.deepcopy(model)
    for parent in model.modules():
        for name, child in parent.named_children():
            make = swaps.get(type(child))
            if make is not None:
                setattr(parent, name, make())
    return model


class PackedBandPooling(nn.Module):
    """Decoder features (fused) or heatmaps (separable) -> packed vectors (N, K, W + H)."""

    def __init__(self, head: nn.Conv2d, bandwidths: tuple[int, ...], weights: tuple[float, ...],
                 form: str = "fused", edges: str = "zeros", filter: str = "fc",
                 size: int | None = None, means: str = "conv", layout: str = "NHWC") -> None:
        super().__init__()
        self.layout = layout  # "NCHW": the conv filter's output is already the contract's
        if means not in MEAN_FORMS:
            raise ValueError(f"means form must be one of {MEAN_FORMS}, got {means!r}")
        self.means = means
        if filter not in ("fc", "conv"):
            raise ValueError(f"BPM filter must be 'fc' or 'conv', got {filter!r}")
        self.filter = filter
        if form not in BPM_FORMS:
            raise ValueError(f"BPM form must be one of {BPM_FORMS}, got {form!r}")
        if edges not in ("valid", "zeros"):
            raise ValueError(f"BPM edges must be 'valid' or 'zeros', got {edges!r}")
        self.form = form
        self.edges = edges
        self.head = head
        self.bands = (tuple(bandwidths), tuple(weights))
        taps = combined_kernel(tuple(bandwidths), tuple(weights))
        self.pad = taps.numel() // 2
        k = head.out_channels
        self.register_buffer(
            "taps", taps.view(1, 1, 1, -1).repeat(k, 1, 1, 1), persistent=False
        )
        # the fc filter's matrix, built here (not in forward) so that export traces a constant
        self.register_buffer(
            "matrix", band_matrix(size, *self.bands, edges) if size else None, persistent=False
        )

    def _means(self, t: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, 2, W): row 0 = mean over H, row 1 = mean over W (as a row)."""
        n, c, h, w = t.shape
        if h != w:
            raise ValueError(f"packed band pooling needs square maps, got {h}x{w}")
        if self.means == "mean":
            mx = t.mean(dim=2, keepdim=True)  # (N, C, 1, W)
            my = t.mean(dim=3, keepdim=True)  # (N, C, H, 1)
        else:
            ones_h = torch.full((c, 1, h, 1), 1.0 / h, dtype=t.dtype, device=t.device)
            ones_w = torch.full((c, 1, 1, w), 1.0 / w, dtype=t.dtype, device=t.device)
            mx = F.conv2d(t, ones_h, groups=c)  # (N, C, 1, W)
            my = F.conv2d(t, ones_w, groups=c)  # (N, C, H, 1)
        # (N, C, H, 1) -> (N, C, 1, H) through the device (NHWC) order, where it is a no-op.
        my = my.permute(0, 2, 3, 1).reshape(n, 1, h, c).permute(0, 3, 1, 2)
        return torch.cat([mx, my], dim=2)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        # fused: the 1x1 head runs on the 2 x W means only; separable: on the full map first
        fused = self.form == "fused"
        both = self.head(self._means(t)) if fused else self._means(self.head(t))
        n, k, _, w = both.shape
        if self.filter == "conv":
            out = F.conv2d(both, self.taps, padding=(0, self.pad), groups=k)  # (N, K, 2, W)
            if self.edges == "valid":
                out = out * edge_scales(w, *self.bands).to(out).view(1, 1, 1, w)
            if self.layout == "NCHW":  # (N, K, 2, W) is (N, K, W + H) in memory: a reshape
                return out.reshape(n, k, 2 * w)
            # (N, K, 2, W) -> (N, 2W, K) in device order, then ONE transpose to (N, K, W + H).
            return out.permute(0, 2, 3, 1).reshape(n, 2 * w, k).transpose(1, 2)
        # fc: ONE transpose of the small (2W, K) tensor to (K, 2, W), then the band matrix as a
        # fully connected layer on the last axis; the result is already the contract's layout.
        rows = both.permute(0, 2, 3, 1).reshape(n, 2 * w, k).transpose(1, 2).reshape(n, k, 2, w)
        matrix = self.matrix
        if matrix is None or matrix.shape[0] != w:
            matrix = band_matrix(w, *self.bands, self.edges).to(rows)
        return F.linear(rows, matrix).reshape(n, k, 2 * w)


class ExportWrapper(nn.Module):
    """A landmark network with the exported input layout and its head's output packing."""

    def __init__(self, model: HeatmapNet, input_layout: str = "NHWC",
                 graph: Graph | None = None, config: ModelConfig | None = None) -> None:
        """`config` overrides the model's (an export at another input size); the model is
        copied when `graph` rewrites its layers or `repair` opens constant gates, so the
        caller's stays as trained."""
        super().__init__()
        if input_layout not in LAYOUTS:
            raise ValueError(f"input layout must be one of {LAYOUTS}, got {input_layout!r}")
        graph = graph or Graph()
        self.model = open_constant_gates(rewrite(model, graph)).eval()  # repair.py
        self.input_layout = input_layout
        self.graph = graph
        cfg: ModelConfig = config or model.config
        # The head says how its exported output is packed (`heads.Head.export_packing`, a key
        # of `PACKINGS`); no head is named here. The packing module keeps the attribute name
        # `bpm`, which its state_dict keys and the traced graph's node names carry.
        make = PACKINGS[HEADS[cfg.head].export_packing]
        self.bpm = make(self.model, cfg, graph, input_layout) if make else None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.input_layout == "NHWC":
            images = images.permute(0, 3, 1, 2)
        features = self.model.decoder(self.model.backbone(images))
        if self.bpm is None:
            return self.model.head(features)
        return self.bpm(features)  # the BPM applies the head itself (before or after the means)


def band_pooling(model: HeatmapNet, config: ModelConfig, graph: Graph,
                 layout: str) -> PackedBandPooling:
    """The GV head's packing: the BPM around `model`'s 1x1 head, in the forms `graph` names, for
    the exported input `layout`."""
    return PackedBandPooling(model.head, config.bandwidths, config.band_weights, graph.bpm,
                             config.bpm_edges, graph.filter, size=config.output_size,
                             means=graph.means, layout=layout)


#: a head's `export_packing` (`heads.Head`) -> what makes the module that packs the decoder
#: features into the head's exported output, from (model, config, graph, input layout); None:
#: the model's 1x1 head output as it is. A new head names one of these, or adds its own here.
PACKINGS: dict[str, Callable[[HeatmapNet, ModelConfig, Graph, str], nn.Module] | None] = {
    "band_pooling": band_pooling,
    "head": None,
}


def reference_output(model: HeatmapNet, images_nchw: torch.Tensor) -> torch.Tensor:
    """What the exported graph must compute, from the core model itself (not from the wrapper):
    GV -> cat(x, y) along the last axis; heatmap -> the heatmaps."""
    with torch.no_grad():
        out = model(images_nchw)
    if isinstance(out, tuple):
        return torch.cat(out, dim=-1)
    return out


def input_shape(config: ModelConfig, layout: str, batch: int = 1) -> tuple[int, int, int, int]:
    """The exported input shape for `layout`."""
    s = config.input_size
    return (batch, s, s, 3) if layout == "NHWC" else (batch, 3, s, s)


def output_shape(config: ModelConfig, batch: int = 1) -> tuple[int, ...]:
    """The exported output shape, the head's: (N, K, W + H) for GV, (N, K, H, W) for heatmaps."""
    return head_of(config).output_shape(batch)
