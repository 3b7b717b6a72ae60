"""Moved to `gaussian_vector.modelfile.interpreters` (the model-file floor, below the runtime and
the face detector); these names stay here while code written against them moves over."""

from __future__ import annotations

from ..modelfile.interpreters import Backend, Options, TensorInfo, open_backend
from ..modelfile.onnx_files import OnnxBackend, import_onnxruntime
from ..modelfile.tflite_files import KERNELS, TFLiteBackend, import_litert, resolver_kwargs

__all__ = [
    "KERNELS",
    "Backend",
    "OnnxBackend",
    "Options",
    "TFLiteBackend",
    "TensorInfo",
    "import_litert",
    "import_onnxruntime",
    "open_backend",
    "resolver_kwargs",
]
