"""The on-device runtime: exported model + image -> landmarks, with numpy, OpenCV, the native
decoder and one interpreter (LiteRT / tflite-runtime, or ONNX Runtime). No torch anywhere here."""

from .delegates import DelegateSpec
from .errors import (
    BoxError,
    DelegateError,
    InterpreterMissing,
    ModelError,
    NoFaceError,
    NotAFaceError,
    RuntimeFailure,
)
from .landmarker import Face, Landmarker
from .model_file import read_metadata
from .models import resolve_model, shipped_model_path

__all__ = [
    "BoxError",
    "DelegateError",
    "DelegateSpec",
    "Face",
    "InterpreterMissing",
    "Landmarker",
    "ModelError",
    "NoFaceError",
    "NotAFaceError",
    "RuntimeFailure",
    "read_metadata",
    "resolve_model",
    "shipped_model_path",
]
