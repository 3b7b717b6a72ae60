"""Face boxes for samples (numpy only): the given box, or the landmarks' tight box, optionally
shrunk to test Beyond Box (paper 4.5: boxes 10% smaller push landmarks out of the crop)."""

from __future__ import annotations

import numpy as np

from .. import affine
from .readers import Sample


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
