"""Real face crops for int8 calibration and for validation: from a 300-W-layout folder
(NAME.jpg beside NAME.pts, 1-based points) or, with no folder, from the samples shipped in
`gaussian_vector/samples`. Each face is cropped exactly as the runtime crops it: the box is the
landmarks' tight box, warped by `preprocess.crop_face` with the model's input size and enlarge.

Two photos are too few to calibrate int8 ranges on or to judge int8 accuracy by (one bad
landmark moves the mean by percent), and the 300-W photos may not be shipped (research-only
licence). So without a folder each sample is also seen through `SAMPLE_VIEWS` - 1 augmented
crops (the training augmentation: rotation, scale, flip, shift; a fixed seed), so the default
export calibrates and is gated on `max_faces` views of the two faces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaussian_vector import affine
from gaussian_vector.config import ModelConfig
from gaussian_vector.data.augment import AugmentConfig, sample_transform, transform_points
from gaussian_vector.image import as_rgb, load_image
from gaussian_vector.preprocess import crop_face, normalise
from gaussian_vector.schemes import get_scheme

from .errors import ExportError

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "python" / "gaussian_vector" / "samples"
#: crops per packaged sample face without --calib: the plain crop and augmented views of it
SAMPLE_VIEWS = 32
#: the views' augmentation: training's ranges, no occlusion (it is not what a board sees)
VIEWS = AugmentConfig(rotation_deg=25.0, rotation_p=0.8, scale_min=0.85, scale_max=1.15,
                      flip_p=0.5, shift=0.05, occlusion_p=0.0)


def samples_dir() -> Path:
    """The packaged sample faces (installed package first, then the source tree)."""
    import gaussian_vector

    installed = Path(gaussian_vector.__file__).parent / "samples"
    return installed if installed.is_dir() else SAMPLES_DIR


@dataclass(frozen=True)
class Faces:
    """Crops (M, S, S, 3) uint8 RGB and their ground-truth points (M, K, 2) in crop pixels."""

    crops: np.ndarray
    points: np.ndarray
    names: list[str]
    source: str

    def inputs(self, config: ModelConfig, layout: str) -> np.ndarray:
        """The crops normalised as the model takes them, in the exported input `layout`
        ("NHWC" or "NCHW"), float32."""
        x = normalise(self.crops, config)
        return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if layout == "NHWC" else x


def _annotated_images(folder: Path, k: int) -> list[tuple[Path, np.ndarray, str]]:
    """(image, 0-based points, name) for each readable face with K points, via the core's
    300-W reader (which warns about and skips corrupt files)."""
    from gaussian_vector.data import read_300w

    samples, _ = read_300w(folder, n_points=k)
    return [(s.image, np.asarray(s.points, np.float64), s.name) for s in samples]


def load_faces(folder: str | Path | None, config: ModelConfig, max_faces: int = 64) -> Faces:
    """Crops of up to `max_faces` annotated faces (evenly spread over the sorted list).

    ExportError when the folder is missing or holds no usable face with K landmarks.
    """
    root = samples_dir() if folder is None else Path(folder)
    if not root.is_dir():
        raise ExportError(f"calibration folder not found: {root}")
    entries = _annotated_images(root, config.num_landmarks)
    if not entries:
        raise ExportError(
            f"no usable faces in {root}: need NAME.jpg/.png beside NAME.pts with "
            f"{config.num_landmarks} points"
        )
    if len(entries) > max_faces:
        idx = np.linspace(0, len(entries) - 1, max_faces).round().astype(int)
        entries = [entries[i] for i in idx]
    views = max(1, max_faces // len(entries)) if folder is None else 1
    views = min(views, SAMPLE_VIEWS)
    rng = np.random.default_rng(0)
    crops, points, names = [], [], []
    for img_path, pts, name in entries:
        try:
            image = load_image(img_path)
        except (ValueError, OSError):
            continue
        crop, m = crop_face(image, affine.box_from_landmarks(pts), config)
        crops.append(crop)
        points.append(affine.apply(m, pts))
        names.append(name)
        for v in range(1, views):
            crop, view_pts = _view(image, pts, config, rng)
            crops.append(crop)
            points.append(view_pts)
            names.append(f"{name}~{v}")
    if not crops:
        raise ExportError(f"no usable faces in {root}: every image failed to decode")
    source = (f"gaussian_vector/samples ({len(entries)} faces x {views} views)"
              if folder is None else str(root))
    return Faces(np.stack(crops), np.stack(points).astype(np.float32), names, source)


def _view(image: np.ndarray, pts: np.ndarray, config: ModelConfig,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One augmented crop of a face (`VIEWS`) and its points in crop pixels."""
    m, flip = sample_transform(affine.box_from_landmarks(pts), config.input_size,
                               config.enlarge, VIEWS, rng)
    crop = affine.warp(as_rgb(image), m, config.input_size)
    return crop, transform_points(pts, m, flip, get_scheme(config.scheme))
