"""A model's output -> output-grid coordinates and peaks, by its head, native when possible.

The native decoder (`gaussian_vector.native`, C++) takes float32 or int8/uint8 outputs as they
come from the interpreter (no dequantisation of the whole tensor). When it is not installed the
numpy reference in `gaussian_vector.decode`, which has the same functions, does the same job,
after one warning line (logged once per process to the `gaussian_vector.runtime` logger;
unconfigured, it prints to stderr).
"""

from __future__ import annotations

import logging
from types import ModuleType

import numpy as np

from .. import decode as reference
from ..decode_rules import DecodeRules
from ..heads import Head

_warned = False


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


def decoders(use_native: bool | None = None) -> ModuleType:
    """The decoder module: `native` when it is installed and `use_native` is not False, else
    the numpy reference (`use_native=None` warns once when it falls back; True raises
    ImportError)."""
    native = _native() if use_native in (None, True) else None
    if native is not None:
        return native
    if use_native:
        raise ImportError("gaussian_vector.native is not installed")
    if use_native is None:  # asked for the fast path and did not get it
        _warn_fallback()
    return reference


def decode_output(
    head: Head,
    out: np.ndarray,
    rules: DecodeRules,
    scale: float | None = None,
    zero_point: int | None = None,
    *,
    use_native: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode a model's output (N, ...) as its `head` lays it out: float32, or int8/uint8 with
    `scale`/`zero_point` (decoded as it is). Returns coordinates (N, K, 2) in output-grid
    pixels and peaks (N, K), both float32. `use_native`: see `decoders`."""
    out = np.ascontiguousarray(out)
    quantised = out.dtype.kind in "iu"
    if quantised and (scale is None or zero_point is None):
        raise ValueError(f"an {out.dtype} output needs its scale and zero point")
    using = decoders(use_native)
    if quantised:
        xy, peaks = head.decode(out, rules, (float(scale), int(zero_point)), using)
    else:
        xy, peaks = head.decode(out.astype(np.float32, copy=False), rules, None, using)
    return np.asarray(xy, dtype=np.float32), np.asarray(peaks, dtype=np.float32)
