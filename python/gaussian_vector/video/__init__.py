"""Video: frame sources and sinks (`io`: files and cameras in, drawn videos out) and synthetic
test videos with known landmarks (`synth`). numpy and OpenCV; no torch.

Names are imported on first use (module `__getattr__`), so `python -m gaussian_vector.video.synth`
does not find its own module already imported by the package (runpy's RuntimeWarning)."""

from __future__ import annotations

from importlib import import_module

#: exported name -> the module of this package that defines it
_LAZY = {
    "DEFAULT_FPS": "io", "FrameSource": "io", "VideoSink": "io", "camera_index": "io",
    "open_frames": "io",
    "Face": "synth", "GroundTruth": "synth", "SyntheticVideo": "synth", "Truth": "synth",
    "data_faces": "synth", "read_truth": "synth", "sample_faces": "synth", "truth_path": "synth",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
