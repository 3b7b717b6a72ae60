"""Band Pooling Module (paper Eq. 4-5): heatmaps (N, K, H, W) -> x (N, K, W) and y (N, K, H).

x_l[j] is the mean of the heatmap over a band l columns wide and H rows high centred on column
j; the module returns sum_i w_i * x_{l_i} (paper: l = 3 and 5, w = alpha, 1 - alpha with
alpha = 0.5). Where the band overhangs the map, `edges` decides:

- "valid" (the default for new models): the weighted band mean over the part inside the map,
  i.e. the zero-padded result divided by the share of the filter's weight that falls inside
  (sum_i w_i * n_i(j) / l_i over sum_i w_i, n_i(j) = columns of band i inside). Interior elements
  are unchanged; a heatmap falling towards the inside then gives a vector whose end element is
  its largest, which is what Beyond Box needs to see a landmark outside the crop. One bandwidth:
  exactly the mean over the band's columns inside. On an NPU it is one extra Mul.
- "zeros": zero padding, always divided by l*H (PyTorch's count_include_pad). The end element's
  band then averages in padding, so a mass at the border peaks one element inside; models
  trained before `edges` existed use this.

Two forms compute the same function:

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
EDGES = ("valid", "zeros")


def combined_kernel(bandwidths: tuple[int, ...], weights: tuple[float, ...]) -> torch.Tensor:
    """Taps (L,) of sum_i w_i * box(l_i)/l_i, centred, L = max l_i: the fused 1-D filter."""
    size = max(bandwidths)
    k = torch.zeros(size, dtype=torch.float64)
    for band, w in zip(bandwidths, weights, strict=True):
        start = (size - band) // 2
        k[start : start + band] += w / band
    return k.float()


def edge_scales(n: int, bandwidths: tuple[int, ...], weights: tuple[float, ...]) -> torch.Tensor:
    """(n,): the factor turning the zero-padded BPM into the valid one at each position, i.e.
    sum_i w_i over sum_i w_i * (band i's positions inside 0..n-1) / l_i. 1 in the interior."""
    j = torch.arange(n, dtype=torch.float64)
    inside = torch.zeros(n, dtype=torch.float64)
    for band, w in zip(bandwidths, weights, strict=True):
        r = band // 2
        count = torch.clamp(j + r, max=n - 1) - torch.clamp(j - r, min=0) + 1
        inside += w * count / band
    return (sum(weights) / inside).float()


def band_matrix(n: int, bandwidths: tuple[int, ...], weights: tuple[float, ...],
                edges: str = "valid") -> torch.Tensor:
    """(n, n) A with the BPM's 1-D step on means m (length n) = A @ m: the combined taps on a
    band, cut at the borders, rows rescaled for valid edges. The exported graph applies it as one
    fully connected layer."""
    taps = combined_kernel(bandwidths, weights).double()
    r = taps.numel() // 2
    a = torch.zeros(n, n, dtype=torch.float64)
    for j in range(n):
        for d in range(-r, r + 1):
            if 0 <= j + d < n:
                a[j, j + d] = taps[d + r]
    if edges == "valid":
        a *= edge_scales(n, bandwidths, weights).double().view(n, 1)
    return a.float()


class BandPooling(nn.Module):
    """Band Pooling Module with any odd bandwidths and weights; no trainable parameters."""

    def __init__(
        self,
        bandwidths: tuple[int, ...] = (3, 5),
        weights: tuple[float, ...] | None = None,
        form: str = "separable",
        edges: str = "valid",
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
        if edges not in EDGES:
            raise ValueError(f"edges must be one of {EDGES}, got {edges!r}")
        self.edges = edges
        self.register_buffer(
            "kernel", combined_kernel(self.bandwidths, self.weights), persistent=False
        )

    def extra_repr(self) -> str:
        return (f"bandwidths={self.bandwidths}, weights={self.weights}, form={self.form!r}, "
                f"edges={self.edges!r}")

    def forward(self, heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if heatmaps.dim() != 4:
            raise ValueError(
                f"BandPooling expects (N, K, H, W) heatmaps, got {tuple(heatmaps.shape)}"
            )
        if self.form == "band":
            return self._band(heatmaps, dim=2), self._band(heatmaps, dim=3)
        return self._separable(heatmaps, dim=2), self._separable(heatmaps, dim=3)

    def _band(self, h: torch.Tensor, dim: int) -> torch.Tensor:
        """Literal form: average over the full extent of `dim` x l (edges: see the module)."""
        out = 0
        full = h.shape[dim]
        for band, w in zip(self.bandwidths, self.weights, strict=True):
            if dim == 2:
                p = F.avg_pool2d(h, (full, band), stride=1, padding=(0, band // 2))
                out = out + w * p[:, :, 0, :]
            else:
                p = F.avg_pool2d(h, (band, full), stride=1, padding=(band // 2, 0))
                out = out + w * p[:, :, :, 0]
        if self.edges == "valid":
            out = out * edge_scales(out.shape[-1], self.bandwidths, self.weights).to(out)
        return out

    def _separable(self, h: torch.Tensor, dim: int) -> torch.Tensor:
        """Mean over `dim`, then 1-D filtering of the (N, K, L) means along L."""
        m = h.mean(dim=dim)  # dim 2 -> (N, K, W); dim 3 -> (N, K, H)
        return filter_means(m, self.bandwidths, self.weights, self.edges, self.kernel)


def filter_means(m: torch.Tensor, bandwidths: tuple[int, ...], weights: tuple[float, ...],
                 edges: str, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """The BPM's 1-D step on means (N, K, L): one depthwise filter with the combined taps and
    zero padding, rescaled per position for valid edges."""
    n, k, length = m.shape
    taps = (combined_kernel(bandwidths, weights) if kernel is None else kernel).to(m.dtype)
    out = F.conv1d(m.reshape(n * k, 1, length), taps.view(1, 1, -1), padding=taps.numel() // 2)
    out = out.view(n, k, length)
    if edges == "valid":
        out = out * edge_scales(length, bandwidths, weights).to(out)
    return out
