#!/usr/bin/env bash
# The on-device runtime on aarch64, emulated: gv-infer on the bundled samples under qemu-aarch64
# with aarch64 builds of Python (Debian arm64 .debs), ai-edge-litert, numpy and OpenCV (PyPI
# manylinux aarch64 wheels), and our native decoder when an aarch64 build of it is at hand; then
# the same run on x86, and the landmarks compared. Exits non-zero when they differ.
#
#   bench/arm/run_runtime_qemu.sh [MODEL]        MODEL: default (the shipped fp32 .tflite), a
#                                                shipped name, or a .tflite path
# Environment:
#   GV_ARM_WORK         work folder (default build/arm): sysroot/, site/, pkg/, results
#   GV_NATIVE_AARCH64   an aarch64 build of gaussian_vector._native (.so); default: the first
#                       _native.cpython-311-aarch64-linux-gnu.so under build/. Without one the
#                       aarch64 run decodes with the numpy reference (same numbers, slower).
#   PYTHON              the x86 Python with the runtime's deps (default .venv/bin/python)
#   GV_TOL_PX           largest landmark difference accepted on the same boxes and kernels,
#                       pixels (default 0.01)
# Needs: root for apt-get (qemu-user, dpkg --add-architecture arm64) on Debian/Ubuntu, and
# access to the Debian and PyPI registries. Notes and the output of a run: docs/runtime.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
WORK=${GV_ARM_WORK:-build/arm}
PY=${PYTHON:-.venv/bin/python}
MODEL=${1:-default}
TOL=${GV_TOL_PX:-0.01}
PYVER=3.11  # Debian bookworm's python3; the wheels below are fetched for the same version
SAMPLES=(python/gaussian_vector/samples/einstein.jpg python/gaussian_vector/samples/takeo.ppm)
mkdir -p "$WORK"
step() { printf '\n== %s\n' "$*"; }

step "tools: qemu-aarch64"
if ! command -v qemu-aarch64 >/dev/null; then
  apt-get install -y -qq qemu-user >/dev/null
fi
qemu-aarch64 --version | head -1

step "aarch64 Python $PYVER: Debian arm64 packages unpacked into $WORK/sysroot"
if [ ! -x "$WORK/sysroot/usr/bin/python$PYVER" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  apt-get update -qq
  mkdir -p "$WORK/debs" "$WORK/sysroot"
  # the dependency closure of the interpreter, its stdlib, and the C++ runtime the wheels need
  mapfile -t PKGS < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "python$PYVER-minimal:arm64" \
      "libpython$PYVER-stdlib:arm64" libstdc++6:arm64 libgcc-s1:arm64 \
    | grep -E '^[a-z0-9].*:arm64$' | grep -vE '^(dpkg|tar|install-info):' | sort -u)
  (cd "$WORK/debs" && apt-get download "${PKGS[@]}" 2>&1 | grep -v 'unsandboxed' | tail -1)
  for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$WORK/sysroot"; done
fi
ARM_PY=(qemu-aarch64 -L "$WORK/sysroot" "$WORK/sysroot/usr/bin/python$PYVER")
"${ARM_PY[@]}" -c 'import platform, sys; print(sys.version.split()[0], platform.machine())'

step "aarch64 wheels: ai-edge-litert, numpy, opencv-python-headless, tqdm -> $WORK/site"
if [ ! -d "$WORK/site/ai_edge_litert" ]; then
  PLAT=(--platform manylinux2014_aarch64)
  for v in 17 24 27 28 31 34 35 36; do PLAT+=(--platform "manylinux_2_${v}_aarch64"); done
  "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$WORK/site" \
    "${PLAT[@]}" --python-version "$PYVER" --implementation cp --only-binary=:all: \
    "ai-edge-litert==2.3.*" "numpy>=2,<3" opencv-python-headless tqdm
fi
ls "$WORK/site" | grep -E 'dist-info$' | sed 's/.dist-info//' | tr '\n' ' '; echo

step "the package for aarch64: python/gaussian_vector without x86 binaries, plus the native module"
rm -rf "$WORK/pkg" && mkdir -p "$WORK/pkg"
cp -r python/gaussian_vector "$WORK/pkg/"
find "$WORK/pkg" -name '*.so' -delete
find "$WORK/pkg" -name '__pycache__' -prune -exec rm -rf {} +
NATIVE=${GV_NATIVE_AARCH64:-$(find build -name "_native.cpython-${PYVER/./}-aarch64-linux-gnu.so" \
  2>/dev/null | head -1)}
if [ -n "$NATIVE" ] && [ -f "$NATIVE" ]; then
  cp "$NATIVE" "$WORK/pkg/gaussian_vector/"
  echo "native decoder: $NATIVE"
else
  echo "native decoder: no aarch64 build found (GV_NATIVE_AARCH64); the numpy reference decodes"
fi

cat > "$WORK/compare_run.py" <<'PYEOF'
"""Run on each architecture: every sample with its annotated box (the landmark model alone) and
with the bundled detector (the whole pipeline); landmarks, boxes and timings as JSON."""
import json, sys, time
from pathlib import Path
from gaussian_vector.affine import box_from_landmarks
from gaussian_vector.data.readers import read_pts
from gaussian_vector.image import load_image
from gaussian_vector.runtime import FacePipeline
from gaussian_vector.runtime.decoding import native_available

model, kernels, out, *samples = sys.argv[1:]
if native_available():
    from gaussian_vector import native
    decoder = f"native ({native.isa()})"
else:
    decoder = "numpy reference"
lm = FacePipeline.from_file(model, threads=1, kernels=kernels)
doc = {"decoder": decoder, "kernels": kernels, "samples": {}}
for s in samples:
    img = load_image(s)
    box = box_from_landmarks(read_pts(Path(s).with_suffix(".pts")))
    rec = {}
    for how, boxes in (("box", [box]), ("detector", None)):
        t = time.perf_counter()
        f = lm.detect(img, boxes)[0]
        rec[how] = {"box": f.box.tolist(), "landmarks": f.landmarks.tolist(),
                    "confidence": f.confidence.tolist(), "ms": (time.perf_counter() - t) * 1e3}
    doc["samples"][Path(s).name] = rec
Path(out).write_text(json.dumps(doc))
print(f"{Path(out).name}: decoder {decoder}, kernels {kernels}", flush=True)
PYEOF
run_arm() {  # kernels json
  PYTHONPATH="$WORK/site:$WORK/pkg" "${ARM_PY[@]}" "$WORK/compare_run.py" "$MODEL_PATH" "$1" \
    "$2" "${SAMPLES[@]}"
}
MODEL_PATH=$(PYTHONPATH=python "$PY" -c \
  'import sys; from gaussian_vector.runtime import resolve_model; print(resolve_model(sys.argv[1]))' \
  "$MODEL")
echo "model: $MODEL_PATH"

step "aarch64: gv-infer on the samples (qemu, reference kernels), the CLI as a user runs it"
PYTHONPATH="$WORK/site:$WORK/pkg" "${ARM_PY[@]}" -m gaussian_vector.cli.infer "${SAMPLES[@]}" \
  --model "$MODEL_PATH" --kernels reference --threads 1 --no-progress --json "$WORK/arm_cli.json"
echo "gv-infer exit status $?, results in $WORK/arm_cli.json"

step "aarch64 run (qemu) with the default kernels (XNNPACK + optimised builtins)"
if run_arm default "$WORK/arm.json"; then
  KERNELS=default
else
  echo "-> failed (status $?): LiteRT's optimised aarch64 kernels do not run under this" \
       "qemu-user; retrying with the reference kernels"
  step "aarch64 run (qemu) with the reference kernels"
  run_arm reference "$WORK/arm.json"
  KERNELS=reference
fi

step "x86 runs: the same kernels, and the default ones"
PYTHONPATH=python "$PY" "$WORK/compare_run.py" "$MODEL_PATH" "$KERNELS" "$WORK/x86.json" \
  "${SAMPLES[@]}" 2>/dev/null
PYTHONPATH=python "$PY" "$WORK/compare_run.py" "$MODEL_PATH" default "$WORK/x86_default.json" \
  "${SAMPLES[@]}" 2>/dev/null

step "aarch64 vs x86"
"$PY" - "$WORK/arm.json" "$WORK/x86.json" "$WORK/x86_default.json" "$TOL" <<'PYEOF'
import json, sys
import numpy as np
arm, x86, x86d = (json.load(open(p)) for p in sys.argv[1:4])
tol = float(sys.argv[4])

def diff(a, b, key):
    return float(np.abs(np.array(a[key]) - np.array(b[key])).max())

worst = 0.0
for ref, label, gate in ((x86, f"x86 {x86['kernels']} kernels", True),
                         (x86d, "x86 default kernels", False)):
    print(f"aarch64 ({arm['decoder']}, {arm['kernels']} kernels) vs {label}:")
    for name, a in arm["samples"].items():
        b = ref["samples"][name]
        for how in ("box", "detector"):
            d = diff(a[how], b[how], "landmarks")
            if gate and how == "box":
                worst = max(worst, d)
            print(f"  {name:13s} {how:8s} landmarks max|diff| {d:.4f} px  box "
                  f"{diff(a[how], b[how], 'box'):.2e} px  confidence "
                  f"{diff(a[how], b[how], 'confidence'):.4f}  detect() {a[how]['ms']:.0f} ms "
                  f"(emulated) vs {b[how]['ms']:.0f} ms")
print(f"{'EQUAL' if worst <= tol else 'DIFFERENT'}: landmark model on the same boxes, "
      f"same kernels, within {tol} px (worst {worst:.4f} px)")
sys.exit(0 if worst <= tol else 1)
PYEOF
