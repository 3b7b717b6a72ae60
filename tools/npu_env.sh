#!/usr/bin/env bash
# Create the environment of one NPU vendor toolchain, apart from the main .venv (their packages
# conflict with ours: onnxruntime-qnn installs a module named onnxruntime; rknn-toolkit2 pins
# numpy 1.26, onnx 1.18 and torch 2.4). gv-export and gv-bench never import them: they run
# python/gaussian_vector/runtime/npu_worker.py with that environment's python (docs/npu.md).
#
#   tools/npu_env.sh qnn    # .venv-qnn:  onnxruntime-qnn 2.7.0 (QNN 2.51, HTP simulator), ~0.6 GB
#   tools/npu_env.sh rknn   # .venv-rknn: rknn-toolkit2 2.5.0 (rk3588/rv1106/rk3566 simulator), ~6 GB
#   tools/npu_env.sh tflm   # .venv-tflm: tflite-micro (dev build), the Cortex-M interpreter
#
# GV_NPU_ENV_DIR puts the environments elsewhere (default: the repository root); PYTHON picks the
# interpreter to create them with (default python3; 3.11 is what the pins below were measured on).
set -euo pipefail

usage() { echo "usage: tools/npu_env.sh qnn|rknn|tflm" >&2; exit 2; }
[ $# -eq 1 ] || usage
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${GV_NPU_ENV_DIR:-$root}"
py="${PYTHON:-python3}"

case "$1" in
  qnn)  packages=("onnxruntime-qnn==2.7.0") ;;
  rknn) packages=("rknn-toolkit2==2.5.0") ;;
  tflm) packages=("--pre" "tflite-micro") ;;
  *) usage ;;
esac

venv="$dir/.venv-$1"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
echo "installing ${packages[*]} into $venv (nice -n 15)"
nice -n 15 "$venv/bin/python" -m pip install --quiet "${packages[@]}"
"$venv/bin/python" "$root/python/gaussian_vector/runtime/npu_worker.py" probe "$1"
