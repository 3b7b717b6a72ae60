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
#   GV_TOL_PX           largest landmark difference accepted, pixels (default 0.01)
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

cat > "$WORK/run_arm.py" <<'PYEOF'
import sys
from gaussian_vector.runtime.decoding import native_available
from gaussian_vector.cli.infer import main
if native_available():
    from gaussian_vector import native
    print("aarch64 native decoder: yes, argmax path", native.isa(), flush=True)
else:
    print("aarch64 native decoder: no (numpy reference)", flush=True)
sys.exit(main(sys.argv[1:]))
PYEOF
run_arm() {  # kernels json
  PYTHONPATH="$WORK/site:$WORK/pkg" "${ARM_PY[@]}" "$WORK/run_arm.py" "${SAMPLES[@]}" \
    --model "$MODEL" --kernels "$1" --json "$2" --no-progress --threads 1
}

step "aarch64 run (qemu) with the default kernels (XNNPACK + optimised builtins)"
if run_arm default "$WORK/arm_default.json"; then
  ARM_JSON=$WORK/arm_default.json
else
  echo "-> failed (status $?): LiteRT's optimised aarch64 kernels do not run under this" \
       "qemu-user; retrying with the reference kernels"
  step "aarch64 run (qemu) with the reference kernels"
  run_arm reference "$WORK/arm_reference.json"
  ARM_JSON=$WORK/arm_reference.json
fi

step "x86 run (default kernels)"
PYTHONPATH=python "$PY" -m gaussian_vector.cli.infer "${SAMPLES[@]}" --model "$MODEL" \
  --json "$WORK/x86.json" --no-progress --threads 1 2>/dev/null

step "aarch64 vs x86"
PYTHONPATH=python "$PY" - "$ARM_JSON" "$WORK/x86.json" "$TOL" <<'PYEOF'
import json, sys
import numpy as np
arm, x86 = (json.load(open(p)) for p in sys.argv[1:3])
tol = float(sys.argv[3])
worst = 0.0
for a, b in zip(arm["results"], x86["results"], strict=True):
    fa, fb = a["faces"][0], b["faces"][0]
    d = np.abs(np.array(fa["landmarks"]) - np.array(fb["landmarks"])).max()
    db = np.abs(np.array(fa["box"]) - np.array(fb["box"])).max()
    dc = np.abs(np.array(fa["confidence"]) - np.array(fb["confidence"])).max()
    worst = max(worst, d)
    print(f"{a['file'].split('/')[-1]:14s} landmarks max |arm - x86| {d:.4f} px   "
          f"box {db:.3f} px   confidence {dc:.4f}   aarch64 invoke "
          f"{a['timing_ms']['invoke']:.0f} ms (emulated) vs x86 {b['timing_ms']['invoke']:.0f} ms")
print(f"{'EQUAL' if worst <= tol else 'DIFFERENT'} within {tol} px (worst {worst:.4f} px)")
sys.exit(0 if worst <= tol else 1)
PYEOF
