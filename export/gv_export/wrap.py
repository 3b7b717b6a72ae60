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
- x and y share one filter op: the mean over H (N, C, 1, W) and the mean over W, laid out as
  (N, C, 1, H), are stacked into (N, C, 2, W) and filtered by ONE depthwise 1 x L convolution
  whose padding runs along the last axis only, so the rows never leak into each other;
- form "fused" (the default) takes the means of the decoder features and applies the 1 x 1 head
  to the two rows only. The head is affine per pixel and the means are averages, so
  mean(head(f)) == head(mean(f)) exactly: the same function without computing the full K x H x W
  heatmap, which the GV output never needs. Form "separable" keeps head -> means -> filter;
- with the "valid" BPM edges (`ModelConfig.bpm_edges`) the filter is one depthwise box filter
  per bandwidth, each multiplied by a constant per-position scale (l / the band's count inside
  the map) and summed: two small depthwise convolutions, two MULs and an ADD;
- the output leaves in one transpose of the small (2W, K) tensor to the contract's (N, K, W + H).

Both forms compute `BandPooling(form="separable")` of the heatmaps (tests pin that down).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaussian_vector.bpm import combined_kernel, edge_scales
from gaussian_vector.config import ModelConfig
from gaussian_vector.models import GVNet, HeatmapNet

LAYOUTS = ("NHWC", "NCHW")
BPM_FORMS = ("fused", "separable")


class PackedBandPooling(nn.Module):
    """Decoder features (fused) or heatmaps (separable) -> packed vectors (N, K, W + H)."""

    def __init__(self, head: nn.Conv2d, bandwidths: tuple[int, ...], weights: tuple[float, ...],
                 form: str = "fused", edges: str = "zeros") -> None:
        super().__init__()
        if form not in BPM_FORMS:
            raise ValueError(f"BPM form must be one of {BPM_FORMS}, got {form!r}")
        if edges not in ("valid", "zeros"):
            raise ValueError(f"BPM edges must be 'valid' or 'zeros', got {edges!r}")
        self.form = form
        self.edges = edges
        self.head = head
        k = head.out_channels
        # zeros: one filter with the combined taps; valid: one box filter per bandwidth
        filters = ([combined_kernel(tuple(bandwidths), tuple(weights))] if edges == "zeros" else
                   [torch.full((b,), w / b) for b, w in zip(bandwidths, weights, strict=True)])
        self.bandwidths = tuple(bandwidths)
        for i, taps in enumerate(filters):
            self.register_buffer(f"taps{i}", taps.view(1, 1, 1, -1).repeat(k, 1, 1, 1),
                                 persistent=False)
        self.n_filters = len(filters)

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
        k, w = both.shape[1], both.shape[-1]
        if self.edges == "zeros":
            out = F.conv2d(both, self.taps0, padding=(0, self.taps0.shape[-1] // 2), groups=k)
        else:
            scales = edge_scales(w, self.bandwidths).to(both.device, both.dtype)
            out = 0
            for i in range(self.n_filters):
                taps = getattr(self, f"taps{i}")
                filtered = F.conv2d(both, taps, padding=(0, taps.shape[-1] // 2), groups=k)
                out = out + filtered * scales[i].view(1, 1, 1, w)
        n = out.shape[0]  # out: (N, K, 2, W)
        # (N, K, 2, W) -> (N, 2W, K) in device order, then ONE transpose to (N, K, W + H).
        return out.permute(0, 2, 3, 1).reshape(n, 2 * w, k).transpose(1, 2)


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
                              cfg.bpm_edges)
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
