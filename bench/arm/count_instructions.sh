#!/usr/bin/env bash
# aarch64 instructions per face of each decoder (the NEON path) and of a memcpy of its input,
# counted under qemu-user by a TCG plugin (bench/arm/insn_count.c). CI runs it from
# cross_test.sh. Counts are exact and deterministic, unlike times under an emulator, and say how
# lean the code is, not how fast a given core runs it (a load is one instruction either way).
#
#  1. Installs what is missing (bench/arm/common.sh), builds libgv_decode.a for aarch64 in
#     GV_CROSS_BUILD (default build/aarch64), the plugin for the host and
#     bench/arm/count_harness.cpp for aarch64.
#  2. Runs each case with R and 2R repetitions (GV_COUNT_REPS, default 4) after one warm-up:
#     the difference over R is one face, without start-up; it must divide exactly. Each case at
#     every length of GV_COUNT_LENGTHS (default "64 48": vectors of 64 and 64 x 64 heatmaps at
#     256 px input, 48 at 192 px).
#  3. Prints per face: instructions, instructions per input element, the memcpy of the same
#     input, and the ratio; fails if GV fp32 is above 2x its memcpy or GV int8 above 3x at 64
#     or 48 (GV_COUNT_CHECK=off only prints).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) fails the script too
cd "$(dirname "$0")/../.."
BUILD=${GV_CROSS_BUILD:-build/aarch64}
REPS=${GV_COUNT_REPS:-4}
LENGTHS=${GV_COUNT_LENGTHS:-64 48}
CHECK=${GV_COUNT_CHECK:-on}
SYSROOT=/usr/aarch64-linux-gnu
OUT=$BUILD/count
# shellcheck source=bench/arm/common.sh
. bench/arm/common.sh

step "instruction counter: toolchain and builds"
ensure_cross_toolchain
command -v cc >/dev/null || apt_install gcc
[ -f "$BUILD/build.ninja" ] || configure_cross_build "$BUILD"
cmake --build "$BUILD" --target gv_decode >/dev/null
mkdir -p "$OUT"
cc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden bench/arm/insn_count.c \
  -o "$OUT/libinsn_count.so"
aarch64-linux-gnu-g++ -O2 -std=c++17 -Wall -Wextra -Icpp/include bench/arm/count_harness.cpp \
  "$BUILD/cpp/libgv_decode.a" -o "$OUT/count_harness"

# Instructions of `count_harness CASE REPS 68 LENGTH`, whole program; its stdout goes to
# $OUT/CASE.LENGTH.out.
count() {
  local log="$OUT/$1.$3.$2.log"
  rm -f "$log"
  qemu-aarch64 -L "$SYSROOT" -plugin "$OUT/libinsn_count.so" -d plugin -D "$log" \
    "$OUT/count_harness" "$1" "$2" 68 "$3" >"$OUT/$1.$3.out"
  local n
  n=$(sed -n 's/^insns: //p' "$log")
  if [ -z "$n" ]; then
    echo "count_instructions: no count from the plugin for $1 (see $log)" >&2
    return 1
  fi
  echo "$n"
}

# Instructions per face of CASE at LENGTH, and its input's element count, as "INSNS ELEMENTS".
per_face() {
  local one two
  one=$(count "$1" "$REPS" "$2")
  two=$(count "$1" $((2 * REPS)) "$2")
  if [ $(((two - one) % REPS)) -ne 0 ]; then
    echo "count_instructions: $1 at $2 is not exact: $one for $REPS faces, $two for" \
      "$((2 * REPS))" >&2
    exit 1
  fi
  echo "$(((two - one) / REPS)) $(sed -n 's/.*elements=\([0-9]*\).*/\1/p' "$OUT/$1.$2.out")"
}

step "aarch64 instructions per face ($(sed -n 's/.* isa=\([a-z0-9]*\).*/\1/p' \
  <(qemu-aarch64 -L "$SYSROOT" "$OUT/count_harness" gv_fp32 0)) path, qemu-user)"
failed=0
printf '%-14s %6s %10s %9s %14s %8s %7s\n' case length insns/face /element "memcpy insns" ratio \
  target
for len in $LENGTHS; do
  for c in gv_fp32 gv_int8 heatmap_fp32 heatmap_int8; do
    face=$(per_face "$c" "$len")
    read -r insns elements <<<"$face"
    face=$(per_face "memcpy_$c" "$len")
    read -r copy _ <<<"$face"
    # The targets of the shipped models' lengths, 64 (256 px) and 48 (192 px, its own row
    # shapes: docs/native.md); other lengths are printed, not checked.
    case $c.$len in
      gv_fp32.64 | gv_fp32.48) target=2 ;;
      gv_int8.64 | gv_int8.48) target=3 ;;
      *) target=- ;;
    esac
    ratio=$(awk -v a="$insns" -v b="$copy" 'BEGIN { printf "%.2f", a / b }')
    printf '%-14s %6d %10d %9.2f %14d %7sx %7s\n' "$c" "$len" "$insns" \
      "$(awk -v a="$insns" -v n="$elements" 'BEGIN { print a / n }')" "$copy" "$ratio" "$target"
    if [ "$target" != - ] && awk -v a="$insns" -v b="$copy" -v t="$target" \
      'BEGIN { exit !(a > t * b) }'; then
      failed=1
    fi
  done
done
if [ "$failed" -ne 0 ]; then
  if [ "$CHECK" = off ]; then
    echo "above target (GV_COUNT_CHECK=off: not failing)"
  else
    echo "count_instructions: a GV decoder is above its target ratio to memcpy" >&2
    exit 1
  fi
fi
