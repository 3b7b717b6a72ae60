"""Band Pooling Module (paper Eq. 4-5): heatmaps (N, K, H, W) -> x (N, K, W) and y (N, K, H).

x_l[j] is the mean of the heatmap over a band l columns wide and H rows high centred on column
j, zero padded at the edges (always divided by l*H); the module returns sum_i w_i * x_{l_i}
(paper: l = 3 and 5, w = alpha, 1 - alpha with alpha = 0.5). Two forms compute the same function:

- "band": the literal 2-D average pool with an (H, l) window, as the paper writes it.
- "separable": a mean over H, then one fixed depthwise 1 x L convolution whose taps are the
  weighted sum of the box filters. On an NPU this costs a fraction of the band pools.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import odd_bandwidth

FORMS = ("separable", "band")


def combined_kernel(bandwidths: tuple[int, ...], weights: tuple[float, ...]) -> torch.Tensor:
    """Taps (L,) of sum_i w_i * box(l_i)/l_i, centred, L = max l_i: the fused 1-D filter."""
    size = max(bandwidths)
    k = torch.zeros(size, dtype=torch.float64)
    for band, w in zip(bandwidths, weights, strict=True):
        start = (size - band) // 2
        k[start : start + band] += w / band
    return k.float()


class BandPooling(nn.Module):
    """Band Pooling Module with any odd bandwidths and weights; no trainable parameters."""

    def __init__(
        self,
        bandwidths: tuple[int, ...] = (3, 5),
        weights: tuple[float, ...] | None = None,
        form: str = "separable",
    ) -> None:
        super().__init__()
        if not bandwidths:
            raise ValueError("BandPooling needs at least one bandwidth")
        self.bandwidths = tuple(odd_bandwidth(b) for b in bandwidths)
        if weights is None:
            weights = tuple(1.0 / len(bandwidths) for _ in bandwidths)
        if len(weights) != len(bandwidths):
            raise ValueError(
                f"got {len(weights)} weights for {len(bandwidths)} bandwidths; they must match"
            )
        self.weights = tuple(float(w) for w in weights)
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        self.form = form
        self.register_buffer(
            "kernel", combined_kernel(self.bandwidths, self.weights), persistent=False
        )

    def extra_repr(self) -> str:
        return f"bandwidths={self.bandwidths}, weights={self.weights}, form={self.form!r}"

    def forward(self, heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if heatmaps.dim() != 4:
            raise ValueError(
                f"BandPooling expects (N, K, H, W) heatmaps, got {tuple(heatmaps.shape)}"
            )
        if self.form == "band":
            return self._band(heatmaps, dim=2), self._band(heatmaps, dim=3)
        return self._separable(heatmaps, dim=2), self._separable(heatmaps, dim=3)

    def _band(self, h: torch.Tensor, dim: int) -> torch.Tensor:
        """Literal form: average over the full extent of `dim` x l; divides by l*H at the edges."""
        out = 0
        full = h.shape[dim]
        for band, w in zip(self.bandwidths, self.weights, strict=True):
            if dim == 2:
                p = F.avg_pool2d(
                    h, (full, band), stride=1, padding=(0, band // 2), count_include_pad=True
                )
                out = out + w * p[:, :, 0, :]
            else:
                p = F.avg_pool2d(
                    h, (band, full), stride=1, padding=(band // 2, 0), count_include_pad=True
                )
                out = out + w * p[:, :, :, 0]
        return out

    def _separable(self, h: torch.Tensor, dim: int) -> torch.Tensor:
        """Mean over `dim`, then the fused depthwise 1 x L filter with zero padding."""
        k = h.shape[1]
        taps = self.kernel.to(h.dtype)
        pad = taps.numel() // 2
        if dim == 2:
            m = h.mean(dim=2, keepdim=True)  # (N, K, 1, W)
            weight = taps.view(1, 1, 1, -1).expand(k, 1, 1, -1)
            return F.conv2d(m, weight, padding=(0, pad), groups=k)[:, :, 0, :]
        m = h.mean(dim=3, keepdim=True)  # (N, K, H, 1)
        weight = taps.view(1, 1, -1, 1).expand(k, 1, -1, 1)
        return F.conv2d(m, weight, padding=(pad, 0), groups=k)[:, :, :, 0]
