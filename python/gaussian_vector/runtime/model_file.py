"""Moved to `gaussian_vector.modelfile.reader` (the model-file floor, below the runtime and the
face detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.onnx_files import onnx_metadata_props
from ..modelfile.reader import model_format, read_metadata
from ..modelfile.tflite_files import tflite_metadata_entries

__all__ = [
    "model_format",
    "onnx_metadata_props",
    "read_metadata",
    "tflite_metadata_entries",
]
