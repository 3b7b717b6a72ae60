"""Real face crops for int8 calibration and for validation: from a 300-W-layout folder
(NAME.jpg beside NAME.pts, 1-based points) or, with no folder, from the samples shipped in
`gaussian_vector/samples`. Each face is cropped exactly as the runtime crops it: the box is the
landmarks' tight box, warped by `preprocess.crop_face` with the model's input size and enlarge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaussian_vector import affine
from gaussian_vector.config import ModelConfig
from gaussian_vector.image import load_image
from gaussian_vector.preprocess import crop_face

from .errors import ExportError

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "python" / "gaussian_vector" / "samples"


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
    if not crops:
        raise ExportError(f"no usable faces in {root}: every image failed to decode")
    source = "gaussian_vector/samples" if folder is None else str(root)
    return Faces(np.stack(crops), np.stack(points).astype(np.float32), names, source)
