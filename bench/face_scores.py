"""Face scores (`Face.score`, the mean of the 68 landmark confidences) on faces and on non-faces:
the measurements behind each head's min_face_score, FacePipeline's filter (docs/runtime.md).

Faces: the 100 validation faces (ground-truth boxes, and boxes shrunk 0.3), the 770 YouTube test
frames. Non-faces: synthetic images (noise, flat, gradients, stripes, blurred noise) and off-face
patches of the 300-W training images (a box half the face's size in each corner of the image,
kept where it overlaps the face box by less than 10% of its area).
Run: python bench/face_scores.py [MODEL] --data ../shared/data [--json OUT]
"""
import argparse
import json

import cv2
import numpy as np

from gaussian_vector.data import read_300w
from gaussian_vector.data.boxes import face_box
from gaussian_vector.data.readers import read_name_list
from gaussian_vector.image import load_image
from gaussian_vector.runtime import Landmarker

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("model", nargs="?", default="default", help="exported model or shipped name")
ap.add_argument("--data", default="../shared/data", help="the 300-W data root")
ap.add_argument("--json", help="write the scores here")
args = ap.parse_args()
D = args.data
lm = Landmarker.from_file(args.model)  # a landmarker scores every crop and refuses none


def score(img, box):
    return lm.detect(img, [box])[0].score


out = {}
val_names = read_name_list(f"{D}/300w/helen/val.txt")
val, _ = read_300w(f"{D}/300w/helen/trainset", names=val_names)
imgs = {s.name: load_image(s.image) for s in val}
out["val"] = [score(imgs[s.name], face_box(s)) for s in val]
out["val_shrink0.3"] = [score(imgs[s.name], face_box(s, 0.3)) for s in val]
yt, _ = read_300w(f"{D}/youtube-faces/testset")
out["youtube"] = [score(load_image(s.image), face_box(s)) for s in yt]

rng = np.random.default_rng(0)
syn = []
for i in range(40):
    k = i % 5
    if k == 0:
        im = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    elif k == 1:
        im = np.full((256, 256, 3), rng.integers(0, 256), np.uint8)
    elif k == 2:
        x = np.linspace(0, 1, 256)
        g = np.outer(x if i % 2 else 1 - x, np.ones(256)) * 255
        im = np.dstack([g.T if i % 3 else g] * 3).astype(np.uint8)
    elif k == 3:
        period = int(rng.integers(4, 40))
        im = np.dstack([((np.arange(256) // period) % 2 * 255 * np.ones((256, 1)))] * 3)
        im = im.astype(np.uint8)
    else:
        im = cv2.GaussianBlur(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8), (0, 0), 6)
    syn.append(score(im, [40, 40, 216, 216]))
out["synthetic"] = syn

train, _ = read_300w([f"{D}/300w/afw", f"{D}/300w/helen/trainset"], exclude=val_names)
patches = []
for s in train[:400]:
    img = load_image(s.image)
    h, w = img.shape[:2]
    fb = face_box(s)
    side = 0.5 * max(fb[2] - fb[0], fb[3] - fb[1])
    for x0, y0 in ((0, 0), (w - side, 0), (0, h - side), (w - side, h - side)):
        b = np.array([x0, y0, x0 + side, y0 + side])
        ix = max(0, min(b[2], fb[2]) - max(b[0], fb[0]))
        iy = max(0, min(b[3], fb[3]) - max(b[1], fb[1]))
        if ix * iy < 0.1 * side * side and x0 >= 0 and y0 >= 0:
            patches.append(score(img, b))
out["off_face_patches"] = patches

for k, v in out.items():
    v = np.array(v)
    print(f"{k:>18}: n {len(v):4d}  min {v.min():.3f}  p1 {np.percentile(v, 1):.3f}  "
          f"median {np.median(v):.3f}  p99 {np.percentile(v, 99):.3f}  max {v.max():.3f}")
if args.json:
    with open(args.json, "w") as f:
        json.dump(out, f)
