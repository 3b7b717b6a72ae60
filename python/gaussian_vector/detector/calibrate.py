"""Fit the detector-box -> landmark-box mapping on a 300-W-layout data folder and print it.

    python -m gaussian_vector.detector.calibrate DATA_DIR [--variant short|full] [--limit N]

Reads every `NAME.pts` beside an image under DATA_DIR/300w (HELEN's val.txt names are held out),
runs BlazeFace, pairs each annotated face with the detection overlapping it most (IoU >= 0.3),
and prints the fitted `BoxMapping` and how well mapped boxes match: the numbers behind
`LANDMARK_BOX` (short-range) and `FULL_RANGE_BOX` (full-range).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..affine import box_from_landmarks
from ..data.readers import read_pts
from ..image import load_image
from .blazeface import BlazeFace, BoxMapping, fit_mapping
from .nms import match_box

IMAGE_SUFFIXES = (".jpg", ".png", ".jpeg", ".ppm")


def training_faces(root: Path) -> list[tuple[Path, Path]]:
    """(image, .pts) pairs under root/300w, without HELEN's validation names."""
    val_file = root / "300w" / "helen" / "val.txt"
    val = set(val_file.read_text().split()) if val_file.is_file() else set()
    pairs = []
    for pts in sorted((root / "300w").rglob("*.pts")):
        if pts.stem in val:
            continue
        img = next((pts.with_suffix(s) for s in IMAGE_SUFFIXES if pts.with_suffix(s).is_file()),
                   None)
        if img is not None:
            pairs.append((img, pts))
    return pairs


def paired_boxes(detector: BlazeFace, pairs: list[tuple[Path, Path]]):
    """(detector boxes, landmark boxes, misses) for the faces the detector finds."""
    det, gt, misses = [], [], 0
    for img, pts in pairs:
        g = box_from_landmarks(read_pts(pts))
        found = match_box(g, detector.detect(load_image(img)).boxes)
        if found is None:
            misses += 1
            continue
        det.append(found)
        gt.append(g)
    return np.array(det).reshape(-1, 4), np.array(gt).reshape(-1, 4), misses


def report(mapping: BoxMapping, det: np.ndarray, gt: np.ndarray) -> str:
    """Percentiles of mapped-box side ratio and centre error relative to the landmark box."""
    mb = mapping.apply(det)

    def side(b: np.ndarray) -> np.ndarray:
        return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])

    def centre(b: np.ndarray) -> np.ndarray:
        return (b[:, :2] + b[:, 2:]) / 2

    ratio = np.percentile(side(mb) / side(gt), [5, 50, 95])
    err = np.percentile(np.linalg.norm(centre(mb) - centre(gt), axis=1) / side(gt), [50, 95])
    return (f"crop side / landmark-box side p5 {ratio[0]:.3f} p50 {ratio[1]:.3f} "
            f"p95 {ratio[2]:.3f}; centre error / side p50 {err[0]:.3f} p95 {err[1]:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path, help="folder holding 300w/ (e.g. ../shared/data)")
    ap.add_argument("--variant", choices=("short", "full"), default="short",
                    help="which BlazeFace model to fit (default short)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N faces")
    args = ap.parse_args(argv)
    pairs = training_faces(args.data)
    if args.limit:
        pairs = pairs[: args.limit]
    if not pairs:
        ap.error(f"no 300-W faces under {args.data / '300w'}")
    det, gt, misses = paired_boxes(BlazeFace(args.variant), pairs)
    mapping = fit_mapping(det, gt)
    print(f"{len(pairs)} faces, {len(det)} detected, {misses} missed")
    print(mapping)
    print(report(mapping, det, gt))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
