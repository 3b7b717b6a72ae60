"""The graph that gets exported: a trained model wrapped so its inputs and outputs are the ones the
runtime contract (`gaussian_vector.metadata`) names.

- Input: the normalised crop, NHWC for TFLite (what NPUs and LiteRT want, and what a cv2 crop
  already is) or NCHW for ONNX (what ONNX Runtime runs natively, and what
  `gaussian_vector.preprocess.normalise` returns). Normalisation stays outside the graph, so the
  metadata's mean/std mean the same thing for every format.
- GV output: ONE tensor (N, K, W + H), x-vectors first, then y-vectors.
- Heatmap output: (N, K, H, W), as the network computes it.

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
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaussian_vector.bpm import band_matrix, combined_kernel, edge_scales
from gaussian_vector.config import ModelConfig
from gaussian_vector.models import GVNet, HeatmapNet

LAYOUTS = ("NHWC", "NCHW")
BPM_FORMS = ("fused", "separable")


class PackedBandPooling(nn.Module):
    """Decoder features (fused) or heatmaps (separable) -> packed vectors (N, K, W + H)."""

    def __init__(self, head: nn.Conv2d, bandwidths: tuple[int, ...], weights: tuple[float, ...],
                 form: str = "fused", edges: str = "zeros", filter: str = "fc",
                 size: int | None = None) -> None:
        super().__init__()
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

    @staticmethod
    def _means(t: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, 2, W): row 0 = mean over H, row 1 = mean over W (as a row)."""
        n, c, h, w = t.shape
        if h != w:
            raise ValueError(f"packed band pooling needs square maps, got {h}x{w}")
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
    """A GVNet or HeatmapNet with the exported input layout and output packing."""

    def __init__(self, model: HeatmapNet, input_layout: str = "NHWC",
                 bpm_form: str = "fused") -> None:
        super().__init__()
        if input_layout not in LAYOUTS:
            raise ValueError(f"input layout must be one of {LAYOUTS}, got {input_layout!r}")
        self.model = model.eval()
        self.input_layout = input_layout
        cfg: ModelConfig = model.config
        self.bpm = (
            PackedBandPooling(model.head, cfg.bandwidths, cfg.band_weights, bpm_form,
                              cfg.bpm_edges, size=cfg.output_size)
            if isinstance(model, GVNet) else None
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.input_layout == "NHWC":
            images = images.permute(0, 3, 1, 2)
        features = self.model.decoder(self.model.backbone(images))
        if self.bpm is None:
            return self.model.head(features)
        return self.bpm(features)  # the BPM applies the head itself (before or after the means)


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
    """The exported output shape: (N, K, W + H) for GV, (N, K, H, W) for heatmaps."""
    k, o = config.num_landmarks, config.output_size
    return (batch, k, 2 * o) if config.head == "gv" else (batch, k, o, o)
