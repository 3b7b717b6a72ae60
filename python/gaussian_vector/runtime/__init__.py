"""The on-device runtime: exported model + image -> landmarks, with numpy, OpenCV, the native
decoder and one interpreter (LiteRT / tflite-runtime, or ONNX Runtime). No torch anywhere here.

`Landmarker` runs a model on given face boxes; `FacePipeline` puts a face detector in front of
it (finding faces, refine, the face-score filter)."""

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
from .pipeline import FacePipeline

__all__ = [
    "BoxError",
    "DelegateError",
    "DelegateSpec",
    "Face",
    "FacePipeline",
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
