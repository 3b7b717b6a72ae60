"""Reference decoders in numpy: GV vectors and heatmaps to coordinates.

These define the numbers; the native decoder (`gaussian_vector.native`) must return the same,
and offers the same functions (`decode_vectors`, `decode_packed`, `decode_heatmaps` and their
`_int8` forms, each taking a `DecodeRules`), so a caller can hand either module to a head
(`heads.Head.decode`). The rules are spelled out in docs/decoding.md. Coordinates are 0-based
pixel centres in the vector/heatmap grid; scores are the peak values. The int8 forms here
dequantise first (real = float32(q - zero_point) * float32(scale)), which the native decoder's
results equal. What the rules do to one vector (`decode_vector_axis`, `parabola_offset`) lives
beside their fields in `decode_rules`, so a new rule is one Python file; this module lays the
tensors out for it and decodes heatmaps.
"""

from __future__ import annotations

import numpy as np

from ._checks import float_array
from .decode_rules import (
    DEFAULT_RULES,
    DEFAULT_SIGMA,
    DEFAULT_TAU,
    SUBPIXEL_MODES,
    DecodeRules,
    check_subpixel,
    decode_vector_axis,
    parabola_offset,
)

__all__ = [
    "DEFAULT_SIGMA", "DEFAULT_TAU", "SUBPIXEL_MODES", "DecodeRules", "check_subpixel",
    "decode_heatmaps", "decode_heatmaps_int8", "decode_packed", "decode_packed_int8",
    "decode_vector_axis", "decode_vectors", "decode_vectors_int8", "dequantise",
    "parabola_offset", "split_packed",
]


def decode_vectors(
    x: np.ndarray, y: np.ndarray, rules: DecodeRules = DEFAULT_RULES
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
    lx, px = decode_vector_axis(x, rules)
    ly, py = decode_vector_axis(y, rules)
    return np.stack([lx, ly], axis=-1), np.minimum(px, py)


def dequantise(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Real float32 values of an int8/uint8 tensor: float32(q - zero_point) * float32(scale)."""
    return (np.asarray(q).astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


def decode_vectors_int8(
    x: np.ndarray, y: np.ndarray, scale: float, zero_point: int,
    rules: DecodeRules = DEFAULT_RULES,
) -> tuple[np.ndarray, np.ndarray]:
    """`decode_vectors` of quantised x and y vectors, dequantised first."""
    return decode_vectors(dequantise(x, scale, zero_point), dequantise(y, scale, zero_point),
                          rules)


def split_packed(vectors: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the exported layout `(..., K, W + H)` (x first, then y) into x and y views."""
    vectors = float_array("packed vectors", vectors, min_ndim=2, last_min=3)
    if not 2 <= width <= vectors.shape[-1] - 2:
        raise ValueError(f"width {width} does not fit packed vectors of shape {vectors.shape}")
    return vectors[..., :width], vectors[..., width:]


def decode_packed(
    vectors: np.ndarray, width: int, rules: DecodeRules = DEFAULT_RULES
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the exported layout `(..., K, W + H)`, the x-vector (length `width`) first."""
    return decode_vectors(*split_packed(vectors, width), rules)


def decode_packed_int8(
    vectors: np.ndarray, width: int, scale: float, zero_point: int,
    rules: DecodeRules = DEFAULT_RULES,
) -> tuple[np.ndarray, np.ndarray]:
    """`decode_packed` of a quantised tensor, dequantised first."""
    return decode_packed(dequantise(vectors, scale, zero_point), width, rules)


def decode_heatmaps(
    h: np.ndarray, rules: DecodeRules = DEFAULT_RULES
) -> tuple[np.ndarray, np.ndarray]:
    """Decode heatmaps `(..., K, H, W)`: 2-D argmax plus the quarter-pixel shift (interior only),
    or with the rules' `subpixel="parabola"` the parabola vertex along the peak's row and column
    (the only rule a heatmap reads).

    Returns coordinates `(..., K, 2)` (x, y) and scores `(..., K)` = the peak values.
    """
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
    if rules.subpixel == "parabola":
        x = c + np.where(inx, parabola_offset(at(r, c - 1), peak, at(r, c + 1)), 0.0)
        y = r + np.where(iny, parabola_offset(at(r - 1, c), peak, at(r + 1, c)), 0.0)
    else:
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, no shift
            dx = np.where(inx, np.sign(at(r, c + 1) - at(r, c - 1)), 0.0)
            dy = np.where(iny, np.sign(at(r + 1, c) - at(r - 1, c)), 0.0)
        x = c + 0.25 * np.nan_to_num(dx)
        y = r + 0.25 * np.nan_to_num(dy)
    return np.stack([x, y], axis=-1).astype(np.float32), peak.astype(np.float32)


def decode_heatmaps_int8(
    h: np.ndarray, scale: float, zero_point: int, rules: DecodeRules = DEFAULT_RULES
) -> tuple[np.ndarray, np.ndarray]:
    """`decode_heatmaps` of quantised heatmaps, dequantised first."""
    return decode_heatmaps(dequantise(h, scale, zero_point), rules)
