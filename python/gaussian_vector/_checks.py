"""Argument validation shared by the numpy modules: one clear ValueError per problem."""

from __future__ import annotations

import math

import numpy as np


def positive(name: str, value: float) -> float:
    """Return `value` as float, or raise ValueError if it is not a finite number > 0."""
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def odd_bandwidth(value: int) -> int:
    """Return a band width l as int, or raise ValueError unless it is an odd integer ≥ 1."""
    if int(value) != value or value < 1 or value % 2 == 0:
        raise ValueError(f"band width must be an odd integer >= 1, got {value!r}")
    return int(value)


def float_array(name: str, a: object, min_ndim: int, last_min: int = 1) -> np.ndarray:
    """Return `a` as a float array with ≥ `min_ndim` dims, non-empty, last axis ≥ `last_min`."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.shape[-1] < last_min:
        raise ValueError(
            f"{name} must have length >= {last_min} on its last axis, got shape {arr.shape}"
        )
    return arr
