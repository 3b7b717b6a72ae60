"""Moved to `gaussian_vector.modelfile.errors` (the model-file floor, below the runtime and the
face detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.errors import (
    BoxError,
    DelegateError,
    InterpreterMissing,
    ModelError,
    NoFaceError,
    NotAFaceError,
    RuntimeFailure,
)

__all__ = [
    "BoxError",
    "DelegateError",
    "InterpreterMissing",
    "ModelError",
    "NoFaceError",
    "NotAFaceError",
    "RuntimeFailure",
]
