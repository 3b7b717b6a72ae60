"""Moved to `gaussian_vector.modelfile.quiet` (the model-file floor, below the runtime and the face
detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.quiet import litert_info_filtered

__all__ = [
    "litert_info_filtered",
]
