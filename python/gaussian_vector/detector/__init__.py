"""The bundled face detector: BlazeFace short-range (MediaPipe, Apache-2.0) in LiteRT, offline."""

from __future__ import annotations

from .blazeface import LANDMARK_BOX, MODEL_PATH, BlazeFace, BoxMapping, Detections


def default_detector(threads: int | None = None) -> BlazeFace:
    """The detector `Landmarker` uses when no boxes are given."""
    return BlazeFace(threads=threads)


__all__ = ["LANDMARK_BOX", "MODEL_PATH", "BlazeFace", "BoxMapping", "Detections",
           "default_detector"]
