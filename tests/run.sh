#!/usr/bin/env bash
# The test command (README.md): sets up .venv-test if needed, installs the package with its test
# extras (torch pinned first: a looser spec pulls GBs of CUDA wheels), builds and runs the C++
# tests through ctest (plain and with ASan/UBSan), then runs pytest. Exits non-zero on any
# failure, and when pytest collects no tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Its own environment: the quick start's .venv is the board-like install (no torch), which an
# editable install with torch and the test extras would silently replace.
VENV=${GV_VENV:-.venv-test}
JOBS=$(nproc 2>/dev/null || echo 2)

step() { printf '\n== %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
step "installing torch==2.13.0 (CPU) and gaussian-vector[test]"
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q "torch==2.13.0"
"${PIP[@]}" install -q -e ".[test]"

export PATH="$PWD/$VENV/bin:$PATH"  # the venv's cmake and ninja (test extra) come first
PYBIND_DIR=$("$VENV/bin/python" -m pybind11 --cmakedir)
for variant in plain sanitize; do
  step "C++ tests ($variant)"
  extra=()
  [ "$variant" = sanitize ] && extra=(-DGV_SANITIZE=ON)
  cmake -S . -B "build/ctest-$variant" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGV_BUILD_TESTS=ON -DGV_BUILD_PYTHON=OFF -Dpybind11_DIR="$PYBIND_DIR" "${extra[@]}" >/dev/null
  cmake --build "build/ctest-$variant" -j "$JOBS"
  ctest --test-dir "build/ctest-$variant" --output-on-failure --no-tests=error
done

step "pytest"
set +e
"$VENV/bin/python" -m pytest -p no:anyio "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
