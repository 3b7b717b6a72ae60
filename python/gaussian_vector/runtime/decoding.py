"""Packed GV output (N, K, W + H) -> vector-grid coordinates and peaks, native when possible.

The native decoder (`gaussian_vector.native`, C++) takes float32 or int8/uint8 outputs as they
come from the interpreter (no dequantisation of the whole tensor). When it is not installed the
numpy reference in `gaussian_vector.decode` does the same job, after one warning line (logged
once per process to the `gaussian_vector.runtime` logger; unconfigured, it prints to stderr).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .. import decode as reference

_warned = False


@dataclass(frozen=True)
class DecodeParams:
    """The decoder's parameters, from the model metadata."""

    width: int  # length of the x-vectors (W); the y-vectors follow
    tau: float
    sigma: float
    beyond_box: bool = True
    subpixel: str = "quarter"  # or "parabola" (docs/decoding.md rule 2b)


def _native():
    try:
        from .. import native
    except ImportError:
        return None
    return native


def native_available() -> bool:
    """True when the C++ decoder module imports."""
    return _native() is not None


def _warn_fallback() -> None:
    global _warned
    if not _warned:
        _warned = True
        logging.getLogger("gaussian_vector.runtime").warning(
            "gaussian_vector.native is not installed: decoding with the numpy reference (slower)"
        )


def decode_packed(
    out: np.ndarray,
    params: DecodeParams,
    scale: float | None = None,
    zero_point: int | None = None,
    *,
    use_native: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode packed vectors (N, K, W + H), float32 or int8/uint8 with `scale`/`zero_point`.

    Returns coordinates (N, K, 2) in vector pixels and peaks (N, K), both float32.
    `use_native=None` picks the native decoder when it is installed; False forces numpy.
    """
    out = np.ascontiguousarray(out)
    quantised = out.dtype.kind in "iu"
    if quantised and (scale is None or zero_point is None):
        raise ValueError(f"an {out.dtype} output needs its scale and zero point")
    native = _native() if use_native in (None, True) else None
    if native is None:
        if use_native:
            raise ImportError("gaussian_vector.native is not installed")
        if use_native is None:  # asked for the fast path and did not get it
            _warn_fallback()
        return _decode_numpy(out, params, scale, zero_point)
    return _decode_native(native, out, params, scale, zero_point)


def _decode_numpy(out, params, scale, zero_point):
    v = out.astype(np.float32)
    if out.dtype.kind in "iu":
        v = (v - np.float32(zero_point)) * np.float32(scale)
    x, y = reference.split_packed(v, params.width)
    return reference.decode_vectors(
        x, y, beyond_box=params.beyond_box, tau=params.tau, sigma=params.sigma,
        subpixel=params.subpixel,
    )


def _decode_native(native, out, params, scale, zero_point):
    kwargs = {"beyond_box": params.beyond_box, "tau": params.tau, "sigma": params.sigma,
              "subpixel": params.subpixel}
    if out.dtype.kind in "iu":  # int8/uint8 straight from the interpreter, not dequantised
        xy, peaks = native.decode_packed_int8(
            out, params.width, float(scale), int(zero_point), **kwargs
        )
    else:
        xy, peaks = native.decode_packed(out.astype(np.float32, copy=False), params.width,
                                         **kwargs)
    return np.asarray(xy, dtype=np.float32), np.asarray(peaks, dtype=np.float32)


def decode_heatmap_output(
    out: np.ndarray,
    scale: float | None = None,
    zero_point: int | None = None,
    *,
    use_native: bool | None = None,
    subpixel: str = "quarter",
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmap-baseline output (N, K, H, W) -> coordinates (N, K, 2) and peaks (N, K)."""
    reference.check_subpixel(subpixel)
    out = np.ascontiguousarray(out)
    native = _native() if use_native in (None, True) else None
    if native is not None:
        if out.dtype.kind in "iu":
            xy, peaks = native.decode_heatmaps_int8(out, float(scale), int(zero_point),
                                                    subpixel=subpixel)
        else:
            xy, peaks = native.decode_heatmaps(out.astype(np.float32, copy=False),
                                               subpixel=subpixel)
        return np.asarray(xy, np.float32), np.asarray(peaks, np.float32)
    if use_native:
        raise ImportError("gaussian_vector.native is not installed")
    if use_native is None:
        _warn_fallback()
    v = out.astype(np.float32)
    if out.dtype.kind in "iu":
        v = (v - np.float32(zero_point)) * np.float32(scale)
    return reference.decode_heatmaps(v, subpixel=subpixel)
