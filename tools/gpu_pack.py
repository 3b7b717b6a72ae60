"""The packing step of tools/gpu_pack.sh: training faces made small for the device's 64 MiB
working tree, the validation names, and the ImageNet backbone as .npz.

usage: gpu_pack.py DATA_ROOT OUT_DATA PRETRAINED.tflite OUT.npz
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from gaussian_vector.data.readers import read_pts, write_pts
from gaussian_vector.models.pretrained import read_convs, save_convs

MAX_BOX = 224  # a 256 px crop is 1.25 boxes: a box of 205 px fills it; larger is wasted bytes
QUALITY = 80  # WebP: 0.6x the bytes of JPEG quality 82 on these faces
FOLDERS = ("300w/afw", "300w/helen/trainset", "youtube-faces/trainset")


def pack_face(pts_file: Path, out: Path) -> bool:
    """Write the face's image (scaled so its landmark box is at most MAX_BOX, WebP) and its
    points (scaled with it) under `out`; False when the image cannot be read."""
    image_file = next((f for f in pts_file.parent.glob(pts_file.stem + ".*")
                       if f.suffix != ".pts"), None)
    image = None if image_file is None else cv2.imread(str(image_file), cv2.IMREAD_COLOR)
    if image is None:
        return False
    pts = read_pts(pts_file).astype(np.float64)
    box = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))
    if box > MAX_BOX:  # pixel centres scale as (u + 0.5) * s - 0.5 under INTER_AREA
        s = MAX_BOX / box
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        pts = (pts + 0.5) * s - 0.5
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out.with_suffix(".webp")), image, [cv2.IMWRITE_WEBP_QUALITY, QUALITY])
    write_pts(out.with_suffix(".pts"), pts)
    return True


def main(argv: list[str]) -> int:
    src, dst, pre, npz = (Path(a) for a in argv)
    n = sum(pack_face(f, dst / folder / f.name)
            for folder in FOLDERS for f in sorted((src / folder).glob("*.pts")))
    shutil.copy(src / "300w/helen/val.txt", dst / "300w/helen/val.txt")
    save_convs(read_convs(pre), npz)
    print(f"gpu_pack: {n} faces (300-W boxes at most {MAX_BOX} px), backbone converted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
