"""Label offsets: where another source's annotators put each landmark, against 300-W's convention.

The YouTube Faces frames' labels sit about 0.9 px right of and 0.5 px below where models trained
on 300-W read the same points (ours and dlib's alike; the nose's points 1.7 px lower):
docs/training.md, "The YouTube labels' convention". Trained on as given, those frames teach that
offset, which costs accuracy on 300-W. `measure` takes the per-landmark median of (reading -
label) over a source's training frames, read by a model trained on 300-W only; `align` adds it
to that source's labels, so its frames teach 300-W's convention. `YOUTUBE_OFFSETS`, beside this
module, holds the offsets of the YouTube training frames (`tools/measure_label_offsets.py`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..schemes import get_scheme
from .readers import Sample

#: The YouTube Faces training frames' offsets, measured with the shipped GV model.
YOUTUBE_OFFSETS = Path(__file__).with_name("youtube_offsets.json")
#: Their landmark scheme: the YouTube frames carry 300-W's 68 points.
YOUTUBE_POINTS = get_scheme("300w68").num_points


def youtube_offsets() -> np.ndarray:
    """The YouTube training frames' offsets (68, 2), from `YOUTUBE_OFFSETS`."""
    return read(YOUTUBE_OFFSETS, YOUTUBE_POINTS)


def measure(readings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-landmark median of readings - labels over faces, (N, K, 2) each -> (K, 2) pixels."""
    r, g = np.asarray(readings, np.float64), np.asarray(labels, np.float64)
    if r.shape != g.shape or r.ndim != 3 or r.shape[-1] != 2 or len(r) == 0:
        raise ValueError(f"readings {r.shape} and labels {g.shape} must both be (N, K, 2), N > 0")
    return np.median(r - g, axis=0)


def write(path: str | Path, offsets: np.ndarray, **provenance: object) -> None:
    """The offsets (K, 2) as JSON, with where they come from (model, frames, ...)."""
    o = np.asarray(offsets, np.float64)
    doc = {**provenance, "offsets_px": np.round(o, 3).tolist()}
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def read(path: str | Path, num_points: int) -> np.ndarray:
    """Offsets (K, 2) from a JSON `write` wrote; ValueError naming the file when it is not one
    of `num_points` finite (x, y) pairs."""
    p = Path(path)
    try:
        o = np.asarray(json.loads(p.read_text())["offsets_px"], np.float64)
    except FileNotFoundError:
        raise FileNotFoundError(f"label offsets {p} not found") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError(f"{p}: not a label-offsets file (JSON with 'offsets_px': "
                         "[[dx, dy], ...])") from None
    if o.shape != (num_points, 2) or not np.all(np.isfinite(o)):
        raise ValueError(f"{p}: {num_points} finite (dx, dy) pairs expected, got shape "
                         f"{o.shape}")
    return o


def align(samples: list[Sample], offsets: np.ndarray) -> list[Sample]:
    """The samples with each landmark moved by its offset (K, 2): labels in 300-W's convention."""
    o = np.asarray(offsets, np.float64)
    out = []
    for s in samples:
        if s.points.shape != o.shape:
            raise ValueError(f"{s.name}: {s.points.shape[0]} points, offsets for {o.shape[0]}")
        out.append(replace(s, points=s.points + o))
    return out
