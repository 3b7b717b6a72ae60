"""Image loading with clear errors: every reader in the toolkit goes through `load_image`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3), turned as it is displayed (a phone photo's
    EXIF orientation applied, so landmarks are in the upright picture's pixels); ValueError or
    FileNotFoundError names an unreadable, corrupt or missing file."""
    import cv2

    p = Path(path)
    if not p.is_file():
        if p.is_symlink():  # is_file follows links: a dangling or looping one is no file
            raise FileNotFoundError(f"{p} is a broken or looping symbolic link "
                                    f"(to {os.readlink(p)})")
        raise FileNotFoundError(f"image not found: {p}")
    data = np.fromfile(p, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise ValueError(f"cannot decode image {p} (corrupt, not an image, or a format OpenCV "
                         "does not read, such as HEIC)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Accept (H, W) grey or (H, W, 3|4) uint8 arrays; return (H, W, 3) RGB uint8."""
    if image is None:  # what cv2.imread returns for a file it cannot read
        raise ValueError("the image is None, not an array (cv2.imread returns None for a file "
                         "it cannot read; a file path can be passed instead)")
    if not isinstance(image, np.ndarray):
        raise ValueError(f"images must be numpy uint8 arrays, got {type(image).__name__}")
    img = image
    if img.dtype != np.uint8:
        raise ValueError(f"images must be uint8 arrays, got dtype {img.dtype}")
    if img.ndim in (2, 3) and 0 in img.shape[:2]:
        raise ValueError(f"the image is empty (shape {img.shape})")
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    if img.ndim == 3 and img.shape[2] == 4:
        return img[:, :, :3]
    raise ValueError(f"images must be (H, W), (H, W, 3) or (H, W, 4), got shape {img.shape}")
