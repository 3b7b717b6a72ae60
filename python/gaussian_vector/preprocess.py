"""Face box -> network input: the one pre-processing path for training, export and the runtime."""

from __future__ import annotations

import numpy as np

from . import affine
from .config import ModelConfig
from .image import as_rgb


def normalise(crops: np.ndarray, config: ModelConfig) -> np.ndarray:
    """uint8 RGB crops (..., S, S, 3) -> float32 (..., 3, S, S) normalised by config mean/std."""
    x = np.asarray(crops, dtype=np.float32) / 255.0
    x = (x - np.asarray(config.mean, np.float32)) / np.asarray(config.std, np.float32)
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


def crop_face(
    image: np.ndarray, box: object, config: ModelConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Warp the face in `box` into the model's input crop: (uint8 crop (S, S, 3), 2x3 affine)."""
    m = affine.crop_transform(box, config.input_size, config.enlarge)
    return affine.warp(as_rgb(image), m, config.input_size), m


def to_image_coords(heatmap_xy: np.ndarray, m: np.ndarray, config: ModelConfig) -> np.ndarray:
    """Decoded heatmap coordinates (..., K, 2) -> image coordinates via the inverse crop affine."""
    stride = config.input_size // config.output_size
    crop_xy = affine.heatmap_to_crop(heatmap_xy, stride)
    return affine.apply(affine.invert(m), crop_xy)
