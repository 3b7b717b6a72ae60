"""The on-device runtime: exported model + image -> landmarks, with numpy, OpenCV, the native
decoder and one interpreter (LiteRT / tflite-runtime, or ONNX Runtime). No torch anywhere here.

`Landmarker` runs a model on given face boxes; `FacePipeline` puts a face detector in front of
it (finding faces, refine, the face-score filter)."""

from ..modelfile.delegates import DelegateSpec
from ..modelfile.errors import (
    BoxError,
    DelegateError,
    InterpreterMissing,
    ModelError,
    NoFaceError,
    NotAFaceError,
    RuntimeFailure,
)
from ..modelfile.reader import read_metadata
from ..modelfile.shipped import resolve_model, shipped_model_path
from .landmarker import Face, Landmarker
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
