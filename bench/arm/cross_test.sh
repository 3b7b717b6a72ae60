#!/usr/bin/env bash
# Cross-build the native decoder for aarch64 and test it under qemu (CI calls this).
#
#  1. apt-get installs what is missing: g++-aarch64-linux-gnu, qemu-user (and, for step 3,
#     the arm64 Python headers and an arm64 numpy, through Debian multiarch).
#  2. Builds gv_decode and its C++ tests with cpp/toolchains/aarch64-linux-gnu.cmake and runs
#     them through ctest, which starts them under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR).
#     Then bench/arm/count_instructions.sh: aarch64 instructions per face of each decoder.
#  3. Builds the pybind11 module gaussian_vector._native for aarch64 and runs
#     bench/arm/qemu_python_smoke.py with an aarch64 CPython (a two-line Py_BytesMain program
#     linked against Debian's libpython3.X:arm64) and Debian's arm64 numpy, under qemu.
#
# Environment: GV_CROSS_PYTHON=auto (default: step 3 runs when the host has Debian's apt and a
# python3.X matching the venv; a failure there fails the script), =off (skip step 3).
# GV_VENV (default .venv-test, the tests' environment: tests/run.sh) provides pybind11's CMake
# files. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${GV_CROSS_BUILD:-build/aarch64}
VENV=${GV_VENV:-.venv-test}
SYSROOT=/usr/aarch64-linux-gnu
JOBS=$(nproc 2>/dev/null || echo 2)
CROSS_PYTHON=${GV_CROSS_PYTHON:-auto}

# shellcheck source=bench/arm/common.sh
. bench/arm/common.sh

step "toolchain"
ensure_cross_toolchain

step "C++ library and tests for aarch64, run under qemu"
configure_cross_build "$BUILD"
cmake --build "$BUILD" -j "$JOBS"
if command -v file >/dev/null; then file "$BUILD/cpp/gv_decode_tests" | grep -q "ARM aarch64"; fi
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -V | grep -E "isa paths|tests,|Passed|Failed" || true
ctest --test-dir "$BUILD" --no-tests=error >/dev/null  # the status that counts

# Instructions per face of each decoder and of a memcpy of its input; fails above the targets.
GV_CROSS_BUILD="$BUILD" bash bench/arm/count_instructions.sh

if [ "$CROSS_PYTHON" = off ]; then
  echo "GV_CROSS_PYTHON=off: skipping the aarch64 Python module"
  exit 0
fi

step "pybind11 module for aarch64"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
PYBIND_DIR=$("$PY" -m pybind11 --cmakedir)
if ! command -v dpkg >/dev/null; then
  echo "no dpkg/apt here: cannot fetch arm64 Python headers (set GV_CROSS_PYTHON=off)" >&2
  exit 1
fi
if [ ! -f "/usr/include/aarch64-linux-gnu/python$PYVER/pyconfig.h" ]; then
  as_root dpkg --add-architecture arm64
  apt_install "libpython$PYVER-dev:arm64"
fi
PYBUILD="$BUILD-python"
cmake -S . -B "$PYBUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cpp/toolchains/aarch64-linux-gnu.cmake \
  -DGV_BUILD_PYTHON=ON -DPYBIND11_USE_CROSSCOMPILING=ON -Dpybind11_DIR="$PYBIND_DIR" \
  -DPython_INCLUDE_DIR="/usr/include/python$PYVER" \
  -DPython_LIBRARY="/usr/lib/aarch64-linux-gnu/libpython$PYVER.so" \
  -DPython_SOABI="cpython-${PYVER/./}-aarch64-linux-gnu" >/dev/null
cmake --build "$PYBUILD" -j "$JOBS" --target _native
MODULE=$(ls "$PYBUILD"/cpp/_native*.so)
echo "built $MODULE"

step "aarch64 CPython + numpy under qemu: import the module and compare with the reference"
case $PYBUILD in  # GV_CROSS_BUILD may be absolute
  /*) STAGE="$PYBUILD/stage" ;;
  *) STAGE="$ROOT/$PYBUILD/stage" ;;
esac
rm -rf "$STAGE" && mkdir -p "$STAGE/site" "$STAGE/debs"
cp -r python/gaussian_vector "$STAGE/site/"
find "$STAGE/site" -name '*.so' -delete
cp "$MODULE" "$STAGE/site/gaussian_vector/"
printf '#include <Python.h>\nint main(int c, char** v) { return Py_BytesMain(c, v); }\n' \
  > "$STAGE/pymain.c"
aarch64-linux-gnu-gcc -I"/usr/include/python$PYVER" "$STAGE/pymain.c" -o "$STAGE/python3" \
  -L/usr/lib/aarch64-linux-gnu -l"python$PYVER"
(cd "$STAGE/debs" && apt-get download python3-numpy:arm64 libblas3:arm64 liblapack3:arm64 \
  libgfortran5:arm64 >/dev/null)
for deb in "$STAGE"/debs/*.deb; do dpkg -x "$deb" "$STAGE/root"; done
LIB="$STAGE/root/usr/lib/aarch64-linux-gnu"
PYTHONHOME=/usr PYTHONPATH="$STAGE/site:$STAGE/root/usr/lib/python3/dist-packages" \
  qemu-aarch64 -L "$SYSROOT" -E "LD_LIBRARY_PATH=$LIB:$LIB/blas:$LIB/lapack" \
  "$STAGE/python3" bench/arm/qemu_python_smoke.py
echo "cross_test: all passed"
