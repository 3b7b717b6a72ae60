"""Flip test: read each face crop and its mirror image, and average the two readings.

The mirror image's landmarks, mirrored back (the scheme's permutation, x -> grid - 1 - x), are a
second, partly independent reading of the same face; their mean is more accurate than either
(docs/runtime.md, "Flip test") at the price of a second forward pass. Shared by the runtime's
`Landmarker` and `evaluate` (torch checkpoints), so both merge by this one rule.

A model trained with `--flip-shift` (300-W's annotators sit right of their own mirror images,
data/augment.py) reads a mirrored face in the annotators' convention too, so its reading mirrored
back sits 2 * flip_shift * (the landmarks' box's longer side) left of the plain reading: `merge`
adds that back. The model carries its flip_shift in `config.extra` (written by gv-train).
"""

from __future__ import annotations

import numpy as np

from .config import ModelConfig
from .schemes import get_scheme

#: Where a model's config carries the `--flip-shift` it was trained with (0 when absent).
FLIP_SHIFT_KEY = "flip_shift"


def model_flip_shift(config: ModelConfig) -> float:
    """The flip shift the model learned its labels with (a fraction of the landmarks' box)."""
    return float(config.extra.get(FLIP_SHIFT_KEY, 0.0))


def mirror_crops(crops: np.ndarray) -> np.ndarray:
    """Crops (M, S, S, C), channels last, mirrored left to right."""
    c = np.asarray(crops)
    if c.ndim != 4:
        raise ValueError(f"crops must be (M, S, S, C), got shape {c.shape}")
    return np.ascontiguousarray(c[:, :, ::-1])


def merge(xy: np.ndarray, conf: np.ndarray, xy_mirrored: np.ndarray, conf_mirrored: np.ndarray,
          config: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """Readings of the crops (M, K, 2) and of their mirrors, in output-grid coordinates, with
    their peaks (M, K) -> the merged landmarks (M, K, 2) and peaks (M, K): the mean of the
    plain reading and the mirror's reading mirrored back (shifted by the model's flip shift)."""
    xy = np.asarray(xy, np.float64)
    if np.shape(xy_mirrored) != xy.shape or np.shape(conf_mirrored) != np.shape(conf):
        raise ValueError(f"the mirrors' readings {np.shape(xy_mirrored)} do not match the "
                         f"crops' {xy.shape}")
    scheme = get_scheme(config.scheme)
    back = scheme.flip_points(xy_mirrored, config.output_size)
    shift = model_flip_shift(config)
    if shift:
        side = np.ptp(xy, axis=-2).max(axis=-1)  # (M,) the landmarks' box's longer side
        back[..., 0] += 2.0 * shift * side[:, None]
    conf_mirrored = np.asarray(conf_mirrored)[..., scheme.flip_index]
    return (xy + back) / 2.0, (np.asarray(conf, np.float64) + conf_mirrored) / 2.0
