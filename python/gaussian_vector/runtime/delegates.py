"""Moved to `gaussian_vector.modelfile.delegates` (the model-file floor, below the runtime and the
face detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.delegates import (
    Coverage,
    DelegateSpec,
    coverage,
    load_delegates,
    undelegated_ops,
)

__all__ = [
    "Coverage",
    "DelegateSpec",
    "coverage",
    "load_delegates",
    "undelegated_ops",
]
