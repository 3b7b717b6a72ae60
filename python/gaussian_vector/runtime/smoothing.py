"""The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) on a tracked face's landmarks.

A first-order low-pass whose cutoff rises with speed: at rest a low cutoff removes the
frame-to-frame jitter, in motion a higher one keeps the lag small. Per landmark,

    alpha(fc, dt) = 1 / (1 + 1 / (2 pi fc dt))
    speed         = low-pass (cutoff `d_cutoff`) of |x_t - x_{t-1}| / dt
    cutoff        = min_cutoff + beta * speed
    x_hat_t       = x_hat_{t-1} + alpha(cutoff, dt) (x_t - x_hat_{t-1})

Speeds are measured in face sizes per second (the side of the landmarks' tight box), not pixels
per second, so one `beta` serves a face of 60 pixels and one of 600; the speed of a point is the
length of its 2-D velocity, so both coordinates of a point share one cutoff. Positions are
filtered in pixels (scaling them by a face size that itself jitters would add jitter).

`frame="face"` (the default) filters in the face's own frame: the previous filtered shape is
first moved with the face, by the similarity transform (shift, rotation, scale) that best maps
it onto the new raw landmarks (least squares over all points), and the filter then works on
what that motion does not explain (expression, and the decoder's noise). The head's motion then
passes without lag, while the noise of 68 points averages out of the fitted motion;
`frame="image"` is the plain filter above, which lags behind a moving head. The defaults come
from `gv-bench video --sweep` (docs/runtime.md, "Video").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FRAMES = ("face", "image")


@dataclass(frozen=True)
class OneEuro:
    """The filter's parameters: cutoffs in Hz, `beta` in 1 / (face sizes per second)."""

    min_cutoff: float = 1.0
    beta: float = 10.0
    d_cutoff: float = 1.0
    frame: str = "face"  # "face": after the face's own motion; "image": the plain filter

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise ValueError(f"One-Euro frame must be one of {FRAMES}, got {self.frame!r}")
        for name in ("min_cutoff", "beta", "d_cutoff"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"One-Euro {name} must be a finite number >= 0, got {v!r}")
        if self.min_cutoff <= 0 or self.d_cutoff <= 0:
            raise ValueError("One-Euro cutoffs must be > 0 Hz (0 would freeze the landmarks)")


def alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    """The smoothing factor of a first-order low-pass at `cutoff` Hz sampled every `dt` s."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff, np.float64) * dt))


class LandmarkSmoother:
    """One face's One-Euro state: `__call__(points, t)` returns the filtered points."""

    def __init__(self, params: OneEuro | None = None) -> None:
        self.params = params or OneEuro()
        self._x: np.ndarray | None = None  # last filtered points, pixels
        self._speed: np.ndarray | None = None  # (K,) filtered speed, face sizes per second
        self._t = 0.0

    def reset(self) -> None:
        """Forget the past: the next points pass through unfiltered."""
        self._x = self._speed = None

    def __call__(self, points: np.ndarray, t: float) -> np.ndarray:
        """Filtered (K, 2) points for raw `points` (K, 2) at time `t` seconds (increasing)."""
        x = np.asarray(points, np.float64)
        if self._x is None or self._speed is None or t <= self._t or x.shape != self._x.shape:
            self._x, self._speed, self._t = x.copy(), np.zeros(len(x)), t
            return x.copy()
        dt = t - self._t
        prm = self.params
        if prm.frame == "face":
            self._x = similarity_fit(self._x, x)  # the last output, moved with the face
        speed = np.linalg.norm(x - self._x, axis=1) / (dt * face_size(x))
        self._speed = self._speed + alpha(prm.d_cutoff, dt) * (speed - self._speed)
        a = alpha(prm.min_cutoff + prm.beta * self._speed, dt)[:, None]
        self._x = self._x + a * (x - self._x)
        self._t = t
        return self._x.copy()


def face_size(points: np.ndarray) -> float:
    """The longer side of the points' tight box (at least 1 pixel): the filter's unit."""
    finite = points[np.all(np.isfinite(points), axis=1)]
    if len(finite) < 2:
        return 1.0
    return float(max(1.0, np.ptp(finite, axis=0).max()))


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """`src` (K, 2) moved by the similarity transform (shift, rotation, uniform scale) that maps
    it onto `dst` (K, 2) with the least squared error (2-D Procrustes); non-finite points take
    no part in the fit."""
    ok = np.all(np.isfinite(src), axis=1) & np.all(np.isfinite(dst), axis=1)
    if ok.sum() < 2:
        return src.copy()
    ms, md = src[ok].mean(axis=0), dst[ok].mean(axis=0)
    p, q = src[ok] - ms, dst[ok] - md
    norm = float((p * p).sum())
    if norm <= 0:
        return src - ms + md
    a = float((p * q).sum()) / norm  # s cos(angle)
    b = float((p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum()) / norm  # s sin(angle)
    c = src - ms
    return np.stack([a * c[:, 0] - b * c[:, 1], b * c[:, 0] + a * c[:, 1]], axis=1) + md
