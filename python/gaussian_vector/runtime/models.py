"""Moved to `gaussian_vector.modelfile.shipped` (the model-file floor, below the runtime and the
face detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.shipped import SHIPPED, WEIGHTS, resolve_model, shipped_model_path

__all__ = [
    "SHIPPED",
    "WEIGHTS",
    "resolve_model",
    "shipped_model_path",
]
