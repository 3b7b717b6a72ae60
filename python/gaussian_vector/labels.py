"""Label codecs: GV vector labels (paper Eq. 1-2) and 2-D heatmap labels for the baseline.

One class per scheme with `encode` (coordinates -> training targets) and `decode` (network
output -> coordinates), in the shape of MMPose's codecs. numpy only; batched over any leading
axes. Coordinates are in label (heatmap) pixels, 0-based pixel centres. A model's head
(`heads.GVHead`, `heads.HeatmapHead`) encodes its training labels with these and decodes its
exported output by the same decoders.

Peak placement (the paper leaves it open; docs/design.md, "Conventions"): a sub-pixel x0 has no
element at distance 0, so the element nearest to x0 gets 1 + theta when x0 lies inside the vector's
pixels [-0.5, w - 0.5); every other element within 3 sigma gets exp(-d^2 / 2 sigma^2) with the true
sub-pixel distance d; the rest are 0. A landmark outside the crop gets no raised peak, only the
cut-off Gaussian tail: that tail is what Beyond Box decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import decode as _decode
from ._checks import positive
from .decode_rules import DEFAULT_TAU, DecodeRules


def _coords(keypoints: np.ndarray) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim < 2 or kp.shape[-1] != 2:
        raise ValueError(f"keypoints must have shape (..., K, 2), got {kp.shape}")
    if kp.shape[-2] == 0:
        raise ValueError("keypoints must hold at least one landmark (K >= 1)")
    if not np.all(np.isfinite(kp)):
        raise ValueError("keypoints contain NaN or Inf")
    return kp


def _size(name: str, value: int) -> int:
    if int(value) != value or value < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    return int(value)


def gaussian_vector_1d(
    x0: np.ndarray, length: int, sigma: float, theta: float
) -> np.ndarray:
    """Vector labels for positions `x0` (any shape) on a vector of `length`: (*x0.shape, length)."""
    i = np.arange(length, dtype=np.float64)
    d = np.abs(i - x0[..., None])
    v = np.where(d < 3.0 * sigma, np.exp(-(d * d) / (2.0 * sigma * sigma)), 0.0)
    inside = (x0 >= -0.5) & (x0 < length - 0.5)
    nearest = np.clip(np.floor(x0 + 0.5), 0, length - 1).astype(np.int64)
    peak = np.where(inside, 1.0 + theta, np.take_along_axis(v, nearest[..., None], -1)[..., 0])
    np.put_along_axis(v, nearest[..., None], peak[..., None], axis=-1)
    return v.astype(np.float32)


@dataclass(frozen=True)
class VectorLabel:
    """GV vector labels: one x-vector (length `width`) and one y-vector (length `height`)."""

    width: int = 64
    height: int = 64
    sigma: float = 2.0
    theta: float = 3.0
    tau: float = DEFAULT_TAU
    beyond_box: bool = True

    def __post_init__(self) -> None:
        _size("width", self.width)
        _size("height", self.height)
        positive("sigma", self.sigma)
        positive("tau", self.tau)
        if not np.isfinite(self.theta) or self.theta < 0:
            raise ValueError(f"theta must be a finite number >= 0, got {self.theta!r}")

    @property
    def rules(self) -> DecodeRules:
        """The rules these labels decode by: Beyond Box with this tau and the labels' sigma."""
        return DecodeRules(self.beyond_box, self.tau, self.sigma)

    def encode(self, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates `(..., K, 2)` -> x labels `(..., K, W)` and y labels `(..., K, H)`."""
        kp = _coords(keypoints)
        x = gaussian_vector_1d(kp[..., 0], self.width, self.sigma, self.theta)
        y = gaussian_vector_1d(kp[..., 1], self.height, self.sigma, self.theta)
        return x, y

    def decode(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectors -> coordinates `(..., K, 2)` and scores `(..., K)` (reference decoder)."""
        return _decode.decode_vectors(x, y, self.rules)


@dataclass(frozen=True)
class HeatmapLabel:
    """2-D Gaussian heatmaps (same sigma, cut at 3 sigma) for the heatmap baseline.

    The peak is the unnormalised Gaussian at the sub-pixel position (max 1 at the nearest pixel);
    landmarks outside the map leave only their tail, as for vectors.
    """

    width: int = 64
    height: int = 64
    sigma: float = 2.0

    def __post_init__(self) -> None:
        _size("width", self.width)
        _size("height", self.height)
        positive("sigma", self.sigma)

    def encode(self, keypoints: np.ndarray) -> np.ndarray:
        """Coordinates `(..., K, 2)` -> heatmaps `(..., K, H, W)` float32."""
        kp = _coords(keypoints)
        s2 = 2.0 * self.sigma * self.sigma
        dx = np.arange(self.width) - kp[..., 0, None]
        dy = np.arange(self.height) - kp[..., 1, None]
        gx = np.where(np.abs(dx) < 3 * self.sigma, np.exp(-(dx * dx) / s2), 0.0)
        gy = np.where(np.abs(dy) < 3 * self.sigma, np.exp(-(dy * dy) / s2), 0.0)
        return (gy[..., :, None] * gx[..., None, :]).astype(np.float32)

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps `(..., K, H, W)` -> coordinates `(..., K, 2)` and scores `(..., K)`."""
        return _decode.decode_heatmaps(heatmaps)
