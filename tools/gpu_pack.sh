#!/usr/bin/env bash
# Pack what tools/gpu_train.sh needs on a lent GPU machine into .gpu/ (git-ignored through
# .git/info/exclude, carried by the device tool), small enough for the device's 64 MiB working
# tree: the training faces as WebP quality 80, 300-W photos scaled so the face box is at most
# 224 px (a 256 px crop shows it at 205), points scaled with them; the validation names; and
# the ImageNet backbone converted to .npz (the GPU image has no ai-edge-litert). Run it here:
#
#   bash tools/gpu_pack.sh                 # data from $GV_DATA or ../shared/data
#   then: device run, carry [".gpu"], command "bash tools/gpu_train.sh"  (see that script)
#
# The runs validate each epoch on the packed HELEN validation faces; the figures that go into the
# model card are measured here afterwards with gv-eval on the original images.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${GV_DATA:-$(cd .. && pwd)/shared/data}
PRE=${GV_PRETRAINED:-$(dirname "$DATA")/pretrained}/mobilenet_v3_small_1.0_224.uint8.tflite
PY=${PYTHON:-.venv/bin/python}
OUT=.gpu
[ -d "$DATA/300w" ] || { echo "gpu_pack: no 300-W data at $DATA (set GV_DATA)" >&2; exit 2; }
[ -f "$PRE" ] || { echo "gpu_pack: no ImageNet backbone at $PRE (set GV_PRETRAINED)" >&2; exit 2; }
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf "$OUT" && mkdir -p "$OUT"
"$PY" tools/gpu_pack.py "$DATA" "$OUT/data" "$PRE" "$OUT/backbone.npz"
du -sh --apparent-size "$OUT"
