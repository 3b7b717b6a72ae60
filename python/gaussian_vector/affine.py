"""The face crop as one 2x3 affine transform, shared by training, evaluation and the runtime so
pre-processing cannot drift between them. numpy only.

Convention (docs/design.md, "Conventions"): 0-based pixel centres. The crop is a square of side
s = enlarge * max(box width, box height) centred on the box; its edges map to the output image's
pixel edges, so a point p maps to u = (p - (c - s/2)) * S / s - 0.5. Augmentation (rotation about
the centre, scale, horizontal flip) composes into the same matrix: one warp per sample.
"""

from __future__ import annotations

import math

import numpy as np


def _box(box: object) -> np.ndarray:
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,) or not np.all(np.isfinite(b)):
        raise ValueError(f"a face box is 4 finite numbers (x0, y0, x1, y1), got {box!r}")
    if b[2] <= b[0] or b[3] <= b[1]:
        raise ValueError(f"face box {b.tolist()} has no area (need x1 > x0 and y1 > y0)")
    return b


def box_from_landmarks(points: np.ndarray) -> np.ndarray:
    """Tight box (x0, y0, x1, y1) around landmarks `(K, 2)`, ignoring non-finite points."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"landmarks must have shape (K, 2), got {p.shape}")
    p = p[np.all(np.isfinite(p), axis=1)]
    if len(p) < 2:
        raise ValueError("need at least two finite landmarks to make a face box")
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


def crop_transform(
    box: object,
    size: int,
    enlarge: float = 1.25,
    *,
    rotation_deg: float = 0.0,
    scale: float = 1.0,
    flip: bool = False,
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """2x3 matrix mapping image points into a `size` x `size` crop of `box`.

    `rotation_deg` turns the face counter-clockwise in the crop, `scale` > 1 makes it larger,
    `flip` mirrors the crop horizontally (landmark indices must then be permuted by the caller),
    `shift` moves the crop centre by a fraction of its side (jitter).
    """
    b = _box(box)
    if size < 1:
        raise ValueError(f"crop size must be >= 1, got {size}")
    if not (enlarge > 0 and scale > 0):
        raise ValueError(f"enlarge and scale must be > 0, got {enlarge} and {scale}")
    side = enlarge * max(b[2] - b[0], b[3] - b[1])
    cx = (b[0] + b[2]) / 2 + shift[0] * side
    cy = (b[1] + b[3]) / 2 + shift[1] * side
    k = size / side * scale
    a = math.radians(rotation_deg)
    cos, sin = math.cos(a) * k, math.sin(a) * k
    # Rotate and scale about the box centre, then put the centre at the crop centre.
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    centre_out = size / 2 - 0.5
    m[:, 2] = np.array([centre_out, centre_out]) - m[:, :2] @ np.array([cx, cy])
    if flip:
        m[0] = -m[0]
        m[0, 2] += 2 * centre_out
    return m


def invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine transform."""
    m = np.asarray(m, dtype=np.float64)
    if m.shape != (2, 3):
        raise ValueError(f"an affine transform is a 2x3 matrix, got shape {m.shape}")
    a = m[:, :2]
    # Relative to the matrix's size: a crop of a very large box is a tiny scale, not singular.
    if not abs(np.linalg.det(a)) > 1e-12 * float(np.sum(a * a)):
        raise ValueError("affine transform is singular and cannot be inverted")
    ai = np.linalg.inv(a)
    return np.concatenate([ai, -ai @ m[:, 2:]], axis=1)


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 transform to points `(..., 2)`."""
    p = np.asarray(points, dtype=np.float64)
    return p @ np.asarray(m)[:, :2].T + np.asarray(m)[:, 2]


def crop_to_heatmap(u: np.ndarray, stride: int = 4) -> np.ndarray:
    """Crop pixel coordinates -> heatmap coordinates at 1/`stride` resolution."""
    return (np.asarray(u, dtype=np.float64) + 0.5) / stride - 0.5


def heatmap_to_crop(h: np.ndarray, stride: int = 4) -> np.ndarray:
    """Heatmap coordinates -> crop pixel coordinates (inverse of `crop_to_heatmap`)."""
    return (np.asarray(h, dtype=np.float64) + 0.5) * stride - 0.5


def warp(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """Warp `image` (H, W[, C]) into the `size` x `size` crop with bilinear sampling, zero fill.

    An RGB image is warped as RGBA from the part of it the crop samples: OpenCV's 4-channel
    kernel is vectorised where its 3-channel one is not (0.19 against 0.35 ms a 256 px face crop
    from a 720p frame, one thread), and the part is small next to a frame."""
    import cv2  # the runtime extra; imported here so numpy-only users can still use the maths

    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0:
        raise ValueError(f"image must be a non-empty (H, W) or (H, W, C) array, got {img.shape}")
    m = np.asarray(m, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8:
        (x0, y0, x1, y1), offset = sampled_region(m, size, img.shape[0], img.shape[1])
        if x1 <= x0 or y1 <= y0:  # the crop samples nothing inside the image
            return np.zeros((size, size, 3), np.uint8)
        part = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_RGB2RGBA)
        out = cv2.warpAffine(part, offset, (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)  # 10x a numpy copy of out[..., :3]
    return cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def sampled_region(m: np.ndarray, size: int, height: int,
                   width: int) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The image pixels (x0, y0, x1, y1), end exclusive, that a `size` crop through `m` can
    sample (its corners mapped back, plus the bilinear neighbours), clipped to the image; and
    `m` re-based onto that region."""
    import cv2

    inv = cv2.invertAffineTransform(m)  # what warpAffine itself inverts; far cheaper than numpy
    corners = np.array([[-1.0, size, -1.0, size], [-1.0, -1.0, size, size]])
    src = inv[:, :2] @ corners + inv[:, 2:]  # (2, 4): x and y of the four corners
    lo = np.floor(src.min(axis=1)) - 1
    hi = np.ceil(src.max(axis=1)) + 2
    x0, x1 = (int(min(max(v, 0), width)) for v in (lo[0], hi[0]))
    y0, y1 = (int(min(max(v, 0), height)) for v in (lo[1], hi[1]))
    offset = m.copy()
    offset[:, 2] += m[:, 0] * x0 + m[:, 1] * y0
    return (x0, y0, x1, y1), offset
