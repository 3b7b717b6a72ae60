"""The native decoder: `gaussian_vector._native` (the C++ library `gv_decode`) from Python.

Same rules and the same float32 numbers as the numpy reference `gaussian_vector.decode`
(docs/decoding.md), and the same functions, much faster: about a microsecond per face of 68
landmarks. int8/uint8 network outputs are decoded as they come from the interpreter, with their
scale and zero point: argmax runs on the raw integers and only the few values the rules read are
dequantised, with results identical to dequantising first
(real = float32(q - zero_point) * float32(scale)).

Inputs must be numpy arrays, C-contiguous, of exactly the dtype each function names (no silent
copies); anything else raises ValueError naming the problem. Every call releases the GIL while
it decodes, and calls are safe from any number of threads. See docs/native.md.

`rules`, in every decoder, is a `DecodeRules` (checked when it was made): Beyond Box with its
tau and sigma, and `subpixel`, the rule for an interior peak: "quarter" (the paper's
quarter-pixel shift toward the larger neighbour) or "parabola" (the vertex of the parabola
through the peak and its two neighbours, on the real values; docs/decoding.md rule 2b). The
binding takes it as it is and reads its fields by the names of the C++ `gv::VectorParams`
(`GV_VECTOR_PARAMS`, listed with their defaults in `_native.RULE_DEFAULTS`), so nothing here
names a rule. Heatmaps read only `subpixel`.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .decode_rules import DecodeRules

try:
    from . import _native
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "gaussian_vector._native (the C++ decoder) is not built or does not load: install the "
        "package from source with `pip install .` (needs CMake >= 3.18 and a C++17 compiler), "
        "or use the numpy reference gaussian_vector.decode. Cause: " + str(exc)
    ) from exc

#: The C++ timing loops of `gv-bench decode` (memcpy and decoding timed by the same
#: steady_clock loop, ns per iteration): the binding's own, passed through.
from ._native import benchmark_heatmaps, benchmark_memcpy, benchmark_vectors  # noqa: E402


def _warn_about_ignored_isa() -> None:
    """GV_DECODE_ISA naming a path this build or CPU cannot run is ignored by the C++ side (a
    decoder must not fail to load over an environment variable); say so instead of silently."""
    wanted = os.environ.get("GV_DECODE_ISA", "")
    if wanted not in ("", "automatic", _native.isa()):
        warnings.warn(
            f"GV_DECODE_ISA={wanted!r} is not a path this build and CPU can run "
            f"({', '.join(_native.supported_isas())}): decoding with {_native.isa()!r}",
            RuntimeWarning, stacklevel=3)


_warn_about_ignored_isa()

__all__ = [
    "benchmark_heatmaps",
    "benchmark_memcpy",
    "benchmark_vectors",
    "decode_heatmaps",
    "decode_heatmaps_int8",
    "decode_packed",
    "decode_packed_int8",
    "decode_vectors",
    "decode_vectors_int8",
    "isa",
    "supported_isas",
]

Decoded = tuple[np.ndarray, np.ndarray]
#: Beyond Box on, tau = sigma = 2, the quarter shift: the paper's rules.
DEFAULT_RULES = DecodeRules()


def decode_vectors(x: np.ndarray, y: np.ndarray, rules: DecodeRules = DEFAULT_RULES) -> Decoded:
    """Decode float32 x-vectors `(..., K, W)` and y-vectors `(..., K, H)`.

    Returns coordinates `(..., K, 2)` (x, y; vector pixels, 0-based pixel centres) and scores
    `(..., K)` = min of the two peaks, both float32.
    """
    return _native.decode_vectors(x, y, rules)


def decode_vectors_int8(
    x: np.ndarray, y: np.ndarray, scale: float, zero_point: int,
    rules: DecodeRules = DEFAULT_RULES,
) -> Decoded:
    """Decode quantised vectors: x `(..., K, W)` and y `(..., K, H)`, both int8 or both uint8.

    `scale` (> 0) and `zero_point` (in the dtype's range) give real = (q - zero_point) * scale;
    `tau` is in real units. Returns float32 coordinates `(..., K, 2)` and scores `(..., K)`.
    """
    return _native.decode_vectors_int8(x, y, scale, zero_point, rules)


def decode_packed(vectors: np.ndarray, width: int, rules: DecodeRules = DEFAULT_RULES) -> Decoded:
    """Decode the exported layout: float32 `(..., K, W + H)`, the x-vector (length `width` = W)
    first, then the y-vector. Same results as splitting and calling `decode_vectors`."""
    return _native.decode_packed(vectors, width, rules)


def decode_packed_int8(
    vectors: np.ndarray, width: int, scale: float, zero_point: int,
    rules: DecodeRules = DEFAULT_RULES,
) -> Decoded:
    """Decode the exported layout `(..., K, W + H)` as int8 or uint8 with scale and zero point."""
    return _native.decode_packed_int8(vectors, width, scale, zero_point, rules)


def decode_heatmaps(heatmaps: np.ndarray, rules: DecodeRules = DEFAULT_RULES) -> Decoded:
    """Decode float32 heatmaps `(..., K, H, W)` (the baseline): 2-D argmax plus, on each axis
    where the peak is interior, the rules' `subpixel` rule along its row (x) and column (y).
    Returns coordinates `(..., K, 2)` and peak scores `(..., K)`."""
    return _native.decode_heatmaps(heatmaps, rules)


def decode_heatmaps_int8(
    heatmaps: np.ndarray, scale: float, zero_point: int, rules: DecodeRules = DEFAULT_RULES
) -> Decoded:
    """Decode int8 or uint8 heatmaps `(..., K, H, W)` with scale and zero point."""
    return _native.decode_heatmaps_int8(heatmaps, scale, zero_point, rules)


def isa() -> str:
    """The argmax path in use: "scalar", "sse41", "avx2", "avx512" or "neon" (GV_DECODE_ISA can
    force one at import time; all paths give identical results)."""
    return _native.isa()


def supported_isas() -> list[str]:
    """Every argmax path this build and CPU can run."""
    return list(_native.supported_isas())
