"""The bundled face detector: BlazeFace short-range (MediaPipe, Apache-2.0) in LiteRT, offline."""

from __future__ import annotations

from .blazeface import (
    FULL_RANGE_BOX,
    LANDMARK_BOX,
    MODEL_PATH,
    BlazeFace,
    BoxMapping,
    Detections,
)


def default_detector(threads: int | None = None, kernels: str = "default") -> BlazeFace:
    """The detector `runtime.FacePipeline` uses unless it is given another."""
    return BlazeFace(threads=threads, kernels=kernels)


__all__ = ["FULL_RANGE_BOX", "LANDMARK_BOX", "MODEL_PATH", "BlazeFace", "BoxMapping", "Detections",
           "default_detector"]
