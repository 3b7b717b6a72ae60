"""Reference decoders in numpy: GV vectors and heatmaps to coordinates.

These define the numbers; the native decoder (`gaussian_vector.native`) must return the same.
The rules are spelled out in docs/decoding.md. Coordinates are 0-based pixel centres in the
vector/heatmap grid; scores are the peak values.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_array, positive

#: Default Beyond Box parameters (paper Table 6: tau = sigma = 2 was best).
DEFAULT_TAU = 2.0
DEFAULT_SIGMA = 2.0

#: Sub-pixel rules for an interior peak: the paper's quarter-pixel shift toward the larger
#: neighbour, or the vertex of the parabola through the peak and its two neighbours.
SUBPIXEL_MODES = ("quarter", "parabola")


def check_subpixel(subpixel: str) -> str:
    """`subpixel` if it names a sub-pixel rule, else a ValueError listing them."""
    if subpixel not in SUBPIXEL_MODES:
        raise ValueError(f"subpixel must be one of {', '.join(SUBPIXEL_MODES)}, got {subpixel!r}")
    return subpixel


def parabola_offset(left: np.ndarray, peak: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Vertex of the parabola through (-1, left), (0, peak), (1, right), in float64, clipped to
    [-0.5, 0.5]; 0 where the three values do not bend down (curvature >= 0, NaN) or the vertex
    is not finite (docs/decoding.md, rule 2b)."""
    left, peak, right = (np.asarray(a, dtype=np.float64) for a in (left, peak, right))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        curvature = left - 2.0 * peak + right
        off = 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0)
    return np.where((curvature < 0) & np.isfinite(off), np.clip(off, -0.5, 0.5), 0.0)


def decode_vector_axis(
    v: np.ndarray,
    *,
    beyond_box: bool = True,
    tau: float = DEFAULT_TAU,
    sigma: float = DEFAULT_SIGMA,
    subpixel: str = "quarter",
) -> tuple[np.ndarray, np.ndarray]:
    """Decode vectors `(..., w)` along their last axis into `(locations, peaks)`, both `(...)`."""
    check_subpixel(subpixel)
    v = float_array("vector", v, min_ndim=1, last_min=2)
    # numpy float64 scalars: a denormal sigma gives inf/0 as in C++ doubles, not ZeroDivisionError
    tau = np.float64(positive("tau", tau))
    sigma = np.float64(positive("sigma", sigma))
    v = v.astype(np.float64, copy=False)
    w = v.shape[-1]
    # NaN never wins (docs/decoding.md): replace it by -inf for the argmax only.
    finite_or_low = np.where(np.isnan(v), -np.inf, v)
    idx = np.argmax(finite_or_low, axis=-1)
    peak = np.take_along_axis(v, idx[..., None], axis=-1)[..., 0]
    # Neighbours; at the ends the missing outer one is g1, the value one pixel from a centred peak.
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        g1 = np.exp(-1.0 / (2.0 * sigma * sigma))
    left = np.take_along_axis(v, np.clip(idx - 1, 0, w - 1)[..., None], axis=-1)[..., 0]
    right = np.take_along_axis(v, np.clip(idx + 1, 0, w - 1)[..., None], axis=-1)[..., 0]
    left = np.where(idx == 0, g1, left)
    right = np.where(idx == w - 1, g1, right)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, no shift
        shift = 0.25 * np.sign(np.nan_to_num(right - left, nan=0.0))
    if subpixel == "parabola":
        interior = (idx > 0) & (idx < w - 1)
        shift = np.where(interior, parabola_offset(left, peak, right), shift)
    loc = idx + shift
    if beyond_box:
        at_end = (idx == 0) | (idx == w - 1)
        outside = at_end & ~(peak >= tau)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            d = np.sqrt(2.0 * sigma * sigma * np.log(tau / peak))
        d = np.where(peak > 0, np.minimum(d, 3.0 * sigma), 3.0 * sigma)
        beyond = np.where(idx == 0, -d, (w - 1) + d)
        loc = np.where(outside, beyond, loc)
    return loc.astype(np.float32), peak.astype(np.float32)


def decode_vectors(
    x: np.ndarray,
    y: np.ndarray,
    *,
    beyond_box: bool = True,
    tau: float = DEFAULT_TAU,
    sigma: float = DEFAULT_SIGMA,
    subpixel: str = "quarter",
) -> tuple[np.ndarray, np.ndarray]:
    """Decode x-vectors `(..., K, W)` and y-vectors `(..., K, H)`.

    Returns coordinates `(..., K, 2)` (x, y) and scores `(..., K)` = min of the two peaks.
    """
    x = float_array("x vectors", x, min_ndim=2, last_min=2)
    y = float_array("y vectors", y, min_ndim=2, last_min=2)
    if x.shape[:-1] != y.shape[:-1]:
        raise ValueError(
            f"x and y vectors must agree on all but the last axis, got {x.shape} and {y.shape}"
        )
    kw = {"beyond_box": beyond_box, "tau": tau, "sigma": sigma, "subpixel": subpixel}
    lx, px = decode_vector_axis(x, **kw)
    ly, py = decode_vector_axis(y, **kw)
    return np.stack([lx, ly], axis=-1), np.minimum(px, py)


def split_packed(vectors: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the exported layout `(..., K, W + H)` (x first, then y) into x and y views."""
    vectors = float_array("packed vectors", vectors, min_ndim=2, last_min=3)
    if not 2 <= width <= vectors.shape[-1] - 2:
        raise ValueError(f"width {width} does not fit packed vectors of shape {vectors.shape}")
    return vectors[..., :width], vectors[..., width:]


def decode_heatmaps(h: np.ndarray, *, subpixel: str = "quarter") -> tuple[np.ndarray, np.ndarray]:
    """Decode heatmaps `(..., K, H, W)`: 2-D argmax plus the quarter-pixel shift (interior only),
    or with `subpixel="parabola"` the parabola vertex along the peak's row and column.

    Returns coordinates `(..., K, 2)` (x, y) and scores `(..., K)` = the peak values.
    """
    check_subpixel(subpixel)
    h = float_array("heatmaps", h, min_ndim=3, last_min=1)
    hh, ww = h.shape[-2:]
    if hh < 1:
        raise ValueError(f"heatmaps must have at least one row, got shape {h.shape}")
    h = h.astype(np.float64, copy=False)
    flat = np.where(np.isnan(h), -np.inf, h).reshape(*h.shape[:-2], hh * ww)
    idx = np.argmax(flat, axis=-1)
    r, c = np.divmod(idx, ww)
    peak = np.take_along_axis(h.reshape(flat.shape), idx[..., None], axis=-1)[..., 0]

    def at(rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        rr = np.clip(rr, 0, hh - 1)
        cc = np.clip(cc, 0, ww - 1)
        return np.take_along_axis(h.reshape(flat.shape), (rr * ww + cc)[..., None], axis=-1)[..., 0]

    inx = (c > 0) & (c < ww - 1)
    iny = (r > 0) & (r < hh - 1)
    if subpixel == "parabola":
        x = c + np.where(inx, parabola_offset(at(r, c - 1), peak, at(r, c + 1)), 0.0)
        y = r + np.where(iny, parabola_offset(at(r - 1, c), peak, at(r + 1, c)), 0.0)
    else:
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, no shift
            dx = np.where(inx, np.sign(at(r, c + 1) - at(r, c - 1)), 0.0)
            dy = np.where(iny, np.sign(at(r + 1, c) - at(r - 1, c)), 0.0)
        x = c + 0.25 * np.nan_to_num(dx)
        y = r + 0.25 * np.nan_to_num(dy)
    return np.stack([x, y], axis=-1).astype(np.float32), peak.astype(np.float32)
