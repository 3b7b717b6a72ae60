"""Face boxes for samples (numpy only): the given box (from the annotation format, or a file of
boxes), or the landmarks' tight box, optionally shrunk to test Beyond Box (paper 4.5: boxes 10%
smaller push landmarks out of the crop)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import affine
from .readers import Sample, entry_name, read_text_file


def face_box(sample: Sample, shrink: float = 0.0) -> np.ndarray:
    """The sample's face box (given, else the landmarks' tight box) as (x0, y0, x1, y1), its
    width and height reduced by the fraction `shrink` about the same centre."""
    if not 0 <= shrink < 1:
        raise ValueError(f"shrink must be in [0, 1), got {shrink}")
    box = (np.asarray(sample.box, np.float64) if sample.box is not None
           else affine.box_from_landmarks(sample.points))
    if shrink:
        c = (box[:2] + box[2:]) / 2
        half = (box[2:] - box[:2]) / 2 * (1 - shrink)
        box = np.concatenate([c - half, c + half])
    return box


def read_boxes(path: str | Path) -> dict[str, tuple[float, float, float, float]]:
    """A file of face boxes, one `NAME x0 y0 x1 y1` a line (0-based pixels, separated by spaces
    or commas; blank lines and # comments ignored), e.g. a detector's boxes to evaluate or train
    with. ValueError naming the line for anything else: a box must be finite and non-empty."""
    path = Path(path)
    boxes: dict[str, tuple[float, float, float, float]] = {}
    for i, raw in enumerate(read_text_file(path, "box file").splitlines(), 1):
        line = raw.split("#", 1)[0].replace(",", " ").split()
        if not line:
            continue
        where = f"{path}:{i}"
        if len(line) != 5:
            raise ValueError(f"{where}: expected 'NAME x0 y0 x1 y1', got {raw.strip()!r}")
        try:
            x0, y0, x1, y1 = (float(v) for v in line[1:])
        except ValueError:
            raise ValueError(f"{where}: non-numeric box {raw.strip()!r}") from None
        if not np.all(np.isfinite([x0, y0, x1, y1])) or x1 <= x0 or y1 <= y0:
            raise ValueError(f"{where}: box must be finite with x1 > x0 and y1 > y0, got "
                             f"{x0, y0, x1, y1}")
        name = entry_name(line[0])
        if name in boxes:
            raise ValueError(f"{where}: a second box for {name!r}")
        boxes[name] = (x0, y0, x1, y1)
    return boxes


def with_boxes(samples: list[Sample],
               boxes: dict[str, tuple[float, float, float, float]]) -> tuple[list[Sample], int]:
    """The samples with the box named after each (by sample name) from `boxes`, and how many
    had none there (those keep the landmarks' tight box)."""
    out = [replace(s, box=boxes[s.name]) if s.name in boxes else s for s in samples]
    return out, sum(s.name not in boxes for s in samples)
