"""Readers for landmark annotation layouts, producing a torch-free list of `Sample`s.

All coordinates leave a reader 0-based (pixel centres): 300-W `.pts` and COFW are 1-based and
are converted here, nowhere else; WFLW lists are already 0-based. Corrupt or inconsistent
entries are skipped with a warning naming each one and counted in a `ReadSummary`, never
returned silently.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".webp")


@dataclass(frozen=True)
class Sample:
    """One annotated face: image file, landmarks (K, 2) 0-based, optional face box (x0,y0,x1,y1)."""

    image: Path
    points: np.ndarray
    name: str
    box: tuple[float, float, float, float] | None = None


@dataclass
class ReadSummary:
    """What a reader kept and what it skipped (and why), for the log and the CLI."""

    kept: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, what: str, why: str) -> None:
        log.warning("skipping %s: %s", what, why)
        self.skipped.append((what, why))

    def __str__(self) -> str:
        return f"{self.kept} faces read, {len(self.skipped)} skipped"


def read_pts(path: str | Path, n_points: int | None = None) -> np.ndarray:
    """Read a 300-W `.pts` file (1-based) as (K, 2) float32 0-based points; ValueError if bad."""
    p = Path(path)
    text = p.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"n_points\s*:\s*(\d+)", text)
    body = re.search(r"\{(.*?)\}", text, re.S)
    if not m or not body:
        raise ValueError(f"{p}: not a .pts file (no 'n_points:' header or {{ }} block)")
    declared = int(m.group(1))
    try:
        values = np.array(body.group(1).split(), dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"{p}: non-numeric coordinates ({e})") from None
    if values.size != 2 * declared:
        raise ValueError(f"{p}: header says {declared} points but the body holds {values.size} "
                         f"numbers ({2 * declared} expected: x y per point)")
    if n_points is not None and declared != n_points:
        raise ValueError(f"{p}: {declared} points, expected {n_points}")
    pts = values.reshape(declared, 2) - 1.0  # 1-based -> 0-based pixel centres
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"{p}: coordinates contain NaN or Inf")
    return pts.astype(np.float32)


def write_pts(path: str | Path, points: np.ndarray) -> None:
    """Write 0-based points (K, 2) as a 1-based 300-W `.pts` file (inverse of `read_pts`)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must have shape (K, 2), got {pts.shape}")
    lines = [f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts]
    Path(path).write_text(
        "version: 1\nn_points: {}\n{{\n{}\n}}\n".format(len(pts), "\n".join(lines))
    )


def _image_for(pts: Path) -> Path | None:
    """The image beside `pts`: same stem, or the stem less a `_N` face suffix (name_1.pts)."""
    stems = [pts.stem]
    m = re.fullmatch(r"(.+)_(\d+)", pts.stem)
    if m:
        stems.append(m.group(1))
    for stem in stems:
        for ext in IMAGE_EXTS:
            for cand in (pts.with_name(stem + ext), pts.with_name(stem + ext.upper())):
                if cand.is_file():
                    return cand
    return None


def _decode_reduced(data: np.ndarray) -> tuple[np.ndarray | None, int]:
    """(grey image, its scale): at 1/8 size where the image allows (fast: JPEG decodes at that
    scale), else whole. OpenCV cannot reduce an image under 8 px on a side (it asserts)."""
    import cv2

    try:
        return cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8), 8
    except cv2.error:
        try:
            return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE), 1
        except cv2.error:
            return None, 1


def _check_image(path: Path, points: np.ndarray | None = None) -> str | None:
    """Why an image file is unusable (empty, undecodable, or not holding its landmarks at all),
    or None. Decodes at 1/8 size where it can: a folder of photos is checked in seconds."""
    if path.stat().st_size == 0:
        return "empty image file"
    data = np.fromfile(path, dtype=np.uint8)
    img, scale = _decode_reduced(data)
    if img is None:
        return "image cannot be decoded"
    if points is None:
        return None
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    h, w = img.shape[0] * scale, img.shape[1] * scale  # at 1/8: an upper bound of the size
    if x1 >= -0.5 and y1 >= -0.5 and x0 <= w - 0.5 and y0 <= h - 0.5:
        return None
    if scale != 1:
        import cv2

        h, w = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE).shape[:2]  # the exact size to name
    return (f"its landmarks (x {x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f}) lie outside the "
            f"{w}x{h} image")


def read_300w(
    folders: str | Path | Iterable[str | Path],
    *,
    n_points: int = 68,
    names: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    check_images: bool = True,
    summary: ReadSummary | None = None,
) -> tuple[list[Sample], ReadSummary]:
    """All faces in 300-W-layout folders (recursively): one `.pts` beside each image.

    `names` keeps only those stems, `exclude` drops them (e.g. a validation list). Several faces
    in one image are `name_1.pts`, `name_2.pts` beside `name.jpg` (the official layout), or
    beside `name_1.jpg` (the layout of the shared data).
    """
    if isinstance(folders, (str, Path)):
        folders = [folders]
    keep = set(names) if names is not None else None
    drop = set(exclude or ())
    summary = summary or ReadSummary()
    samples: list[Sample] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"data folder not found: {folder}")
        for pts_path in sorted(folder.rglob("*.pts")):
            stem = pts_path.stem
            if (keep is not None and stem not in keep) or stem in drop:
                continue
            try:
                pts = read_pts(pts_path, n_points)
            except (ValueError, OSError) as e:
                summary.skip(str(pts_path), str(e))
                continue
            img = _image_for(pts_path)
            if img is None:
                summary.skip(str(pts_path), "no image beside it")
                continue
            if check_images:
                why = _check_image(img, pts)
                if why:
                    summary.skip(str(img), why)
                    continue
            samples.append(Sample(img, pts, stem))
    if keep is not None:
        missing = keep - {s.name for s in samples} - {Path(w).stem for w, _ in summary.skipped}
        if missing:
            log.warning("%d requested names not found, e.g. %s", len(missing), sorted(missing)[:3])
    summary.kept += len(samples)
    return samples, summary


def entry_name(entry: str) -> str:
    """A sample name as listed in a file: `name`, or `name.jpg`/`name.pts` with the extension
    dropped (only image and .pts extensions: names may hold other dots)."""
    return Path(entry).stem if Path(entry).suffix.lower() in IMAGE_EXTS + (".pts",) else entry


def read_text_file(path: str | Path, what: str) -> str:
    """The text of a list the user named (`what`: "name list", "box file", ...), or
    FileNotFoundError / ValueError that names the file instead of a traceback."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} {p} is not a UTF-8 text file") from None


def read_name_list(path: str | Path) -> list[str]:
    """A split file: one name per line (extension optional, blank lines and # comments ignored)."""
    out = []
    for line in read_text_file(path, "name list").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(entry_name(line))
    return out


def read_wflw(
    annotation_file: str | Path, image_root: str | Path, *, check_images: bool = False
) -> tuple[list[Sample], ReadSummary]:
    """WFLW annotation list: per line 196 coordinates (x y for 98 points, 0-based), the face box
    (x_min y_min x_max y_max), 6 attribute flags, then the image path relative to `image_root`."""
    summary = ReadSummary()
    root = Path(image_root)
    samples = []
    for n, line in enumerate(read_text_file(annotation_file, "WFLW annotation list").splitlines(),
                             1):
        parts = line.split()
        if not parts:
            continue
        where = f"{annotation_file}:{n}"
        if len(parts) != 196 + 4 + 6 + 1:
            summary.skip(where, f"expected 207 fields, got {len(parts)}")
            continue
        try:
            nums = np.array(parts[:200], dtype=np.float64)
        except ValueError:
            summary.skip(where, "non-numeric coordinates or box")
            continue
        img = root / parts[-1]
        if not np.all(np.isfinite(nums)):
            summary.skip(where, "coordinates contain NaN or Inf")
            continue
        if check_images and (not img.is_file() or _check_image(img)):
            summary.skip(str(img), "image missing or cannot be decoded")
            continue
        box = tuple(float(v) for v in nums[196:200])
        name = f"{Path(parts[-1]).stem}_{n}"
        samples.append(Sample(img, nums[:196].reshape(98, 2).astype(np.float32), name, box))
    summary.kept = len(samples)
    return samples, summary


def cofw_points(phis: np.ndarray) -> np.ndarray:
    """COFW `phis` rows (x1..x29, y1..y29[, occlusion1..29]), 1-based -> (N, 29, 2) 0-based."""
    phis = np.asarray(phis, dtype=np.float64)
    if phis.ndim != 2 or phis.shape[1] not in (58, 87):
        raise ValueError(f"COFW phis must be (N, 58) or (N, 87), got {phis.shape}")
    return (np.stack([phis[:, :29], phis[:, 29:58]], axis=-1) - 1.0).astype(np.float32)


def read_cofw_mat(
    mat_file: str | Path, out_dir: str | Path, *, split: str = "train"
) -> tuple[list[Sample], ReadSummary]:
    """COFW's MATLAB file (COFW_train_color.mat / COFW_test_color.mat: images `IsTr`/`IsT`,
    landmarks `phisTr`/`phisT`, boxes `bboxesTr`/`bboxesT` as x, y, w, h): the images are
    written to `out_dir` as PNG so every sample is a file like the other layouts."""
    import cv2

    key = {"train": ("IsTr", "phisTr", "bboxesTr"), "test": ("IsT", "phisT", "bboxesT")}
    if split not in key:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    ik, pk, bk = key[split]
    try:
        from scipy.io import loadmat

        mat = loadmat(str(mat_file))
        images = [np.asarray(im) for im in mat[ik].ravel()]
        phis, boxes = np.asarray(mat[pk]), np.asarray(mat[bk])
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        import h5py

        with h5py.File(mat_file, "r") as f:
            images = [np.asarray(f[ref]).T for ref in np.asarray(f[ik]).ravel()]
            phis, boxes = np.asarray(f[pk]).T, np.asarray(f[bk]).T
    except ImportError as e:
        raise ImportError("reading COFW .mat files needs scipy (and h5py for v7.3)") from e
    pts = cofw_points(phis)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = ReadSummary()
    samples = []
    for i, (img, p, b) in enumerate(zip(images, pts, boxes, strict=True)):
        if img.size == 0 or not np.all(np.isfinite(p)):
            summary.skip(f"{mat_file}[{i}]", "empty image or non-finite landmarks")
            continue
        path = out / f"cofw_{split}_{i:04d}.png"
        if not path.is_file():
            cv2.imwrite(str(path), img if img.ndim == 2 else img[:, :, ::-1])
        x, y, w, h = (float(v) - (1.0 if j < 2 else 0.0) for j, v in enumerate(b[:4]))
        samples.append(Sample(path, p, path.stem, (x, y, x + w, y + h)))
    summary.kept = len(samples)
    return samples, summary
