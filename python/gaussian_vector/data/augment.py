"""Paper 4.3 augmentation as parameters of the one crop affine (numpy only).

A training sample is cropped with `affine.crop_transform(box, ..., rotation, scale, flip)`: the
same function the runtime uses without augmentation, so training and serving share one warp.
Flips also permute the landmark indices with the scheme's flip permutation.

The flip mirrors image and labels about the same centre, exactly (0-based pixel centres). The
300-W annotations, though, are not mirror-symmetric: they sit about 0.4% of the face box to the
right of where their own mirror images put them (half the x disagreement between a photo's labels
and its mirror's, measured with the shipped models on HELEN and AFW alike; docs/training.md). An
exact flip teaches the network the average of +0.4% and -0.4%, so it lands that far left of the
labels on every photo. `flip_shift` moves a flipped sample's labels so that they keep the
annotators' convention instead of inverting it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import affine
from ..schemes import Scheme


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges (paper: rotation +-30 deg p=0.5, scale 0.75-1.25, flip p=0.5)."""

    rotation_deg: float = 30.0
    rotation_p: float = 0.5
    scale_min: float = 0.75
    scale_max: float = 1.25
    flip_p: float = 0.5
    shift: float = 0.0  # max jitter of the crop centre, fraction of its side
    occlusion_p: float = 0.5
    occlusion_max: float = 0.4  # max side of the occluding rectangle, fraction of the crop
    #: how far right of the mirror-symmetric position the annotations sit, as a fraction of the
    #: landmarks' box's longer side (300-W: 0.004); flipped labels keep that offset. 0 = exact
    flip_shift: float = 0.0
    #: probability of a colour change: brightness, contrast and saturation (down to grey)
    colour_p: float = 0.0
    #: probability of lost detail: a Gaussian blur or a down-and-up resize (video, small faces)
    blur_p: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rotation_p", "flip_p", "occlusion_p", "colour_p", "blur_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {v}")
        if not 0 < self.scale_min <= self.scale_max:
            raise ValueError(f"need 0 < scale_min <= scale_max, got {self.scale_min}, "
                             f"{self.scale_max}")
        if not 0.0 <= self.shift <= 0.5:
            raise ValueError(f"shift is a fraction of the crop side in [0, 0.5], got {self.shift}")
        if not 0.0 <= self.occlusion_max <= 1.0:
            raise ValueError(f"occlusion_max is a fraction in [0, 1], got {self.occlusion_max}")
        if not abs(self.flip_shift) <= 0.05:
            raise ValueError("flip_shift is a small fraction of the face box in [-0.05, 0.05], "
                             f"got {self.flip_shift}")


NO_AUGMENT = AugmentConfig(rotation_p=0.0, scale_min=1.0, scale_max=1.0, flip_p=0.0,
                           occlusion_p=0.0)


def sample_transform(
    box: object, size: int, enlarge: float, aug: AugmentConfig, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Draw augmentation parameters; return the crop affine and whether it flips."""
    rot = rng.uniform(-aug.rotation_deg, aug.rotation_deg) if rng.random() < aug.rotation_p else 0.0
    scale = rng.uniform(aug.scale_min, aug.scale_max)
    flip = bool(rng.random() < aug.flip_p)
    shift = tuple(rng.uniform(-aug.shift, aug.shift, 2)) if aug.shift > 0 else (0.0, 0.0)
    m = affine.crop_transform(box, size, enlarge, rotation_deg=rot, scale=scale, flip=flip,
                              shift=shift)
    return m, flip


def transform_points(points: np.ndarray, m: np.ndarray, flip: bool, scheme: Scheme,
                     flip_shift: float = 0.0) -> np.ndarray:
    """Landmarks through the crop affine; a flipping affine also permutes the indices.

    With `flip_shift` (see `AugmentConfig`) a flipped face's labels sit that fraction of the
    landmarks' box to the right of the exact mirror, in the mirrored image's own x direction:
    the points move left by twice it in the source image before the mirroring affine.
    """
    if flip and flip_shift:
        box = affine.box_from_landmarks(points)
        points = np.asarray(points, dtype=np.float64).copy()
        points[:, 0] -= 2.0 * flip_shift * max(box[2] - box[0], box[3] - box[1])
    out = affine.apply(m, points)
    if flip:
        out = out[scheme.flip_index]
    return out


def occlude(crop: np.ndarray, aug: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """With probability `occlusion_p`, paint a random rectangle with noise or a flat colour."""
    if aug.occlusion_max <= 0 or rng.random() >= aug.occlusion_p:
        return crop
    s = crop.shape[0]
    w, h = (rng.uniform(0.1, aug.occlusion_max, 2) * s).astype(int) + 1
    x0, y0 = rng.integers(0, s - w + 1), rng.integers(0, s - h + 1)
    out = crop.copy()
    if rng.random() < 0.5:
        out[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, (h, w, crop.shape[2]), np.uint8)
    else:
        out[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, crop.shape[2], np.uint8)
    return out


def photometric(crop: np.ndarray, aug: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Colour and detail changes that leave every landmark where it is (uint8 HxWx3 in and out).

    With `colour_p`: brightness x0.6-1.4, contrast x0.6-1.4 about the mean, saturation x0-1.5
    (0 = grey). With `blur_p`: half the time a Gaussian blur (sigma 0.5-2 px), half the time a
    resize down by 1.5-4x and back up, the look of low-resolution video frames. Nothing is drawn
    from `rng` for a probability of 0, so older recipes see the same random stream.
    """
    out = crop
    if aug.colour_p > 0 and rng.random() < aug.colour_p:
        bright, contrast, sat = rng.uniform([0.6, 0.6, 0.0], [1.4, 1.4, 1.5])
        f = out.astype(np.float32) * bright
        grey = f @ np.array([0.299, 0.587, 0.114], np.float32)
        f = grey[..., None] + sat * (f - grey[..., None])
        f = grey.mean() + contrast * (f - grey.mean())
        out = np.clip(f + 0.5, 0, 255).astype(np.uint8)
    if aug.blur_p > 0 and rng.random() < aug.blur_p:
        import cv2  # the training extra has it (affine.warp)

        if rng.random() < 0.5:
            sigma = float(rng.uniform(0.5, 2.0))
            out = cv2.GaussianBlur(np.ascontiguousarray(out), (0, 0), sigma)
        else:
            s = out.shape[0]
            small = max(8, int(round(s / rng.uniform(1.5, 4.0))))
            down = cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA)
            out = cv2.resize(down, (out.shape[1], s), interpolation=cv2.INTER_LINEAR)
    return out
