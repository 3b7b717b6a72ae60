"""`gv-bench decode`: the native decoder's microbenchmark, one face of 68 landmarks.

Times, in one run and interleaved round by round within each regime (so machine load hits
every item alike), at each input size of --imgsz (default 256 px: the network's outputs are a
quarter of it, so vectors of 64 and 64 x 64 heatmaps; 192 px gives 48):
GV decoding of the x and y vectors (fp32 and int8), heatmap decoding (fp32 and int8),
a memcpy of each input's bytes, one face through the Python binding end to end, and the
per-face time of a batch of 64 faces through the binding. The C++ items run inside
`gaussian_vector.native.benchmark_*`: the same steady_clock loop times memcpy and decoding.
Reports medians over the rounds (ns per face), the ratios the targets are stated in, and JSON
(with several sizes, one such set per size under "by_imgsz", all sizes timed in the same rounds).

Two regimes, each timed by the same C++ loop:
- hot: one face decoded again and again, its input in the CPU caches (the decoder's own speed);
- cold: each decode reads the next face of a pool several times the last-level cache, so its
  input comes from DRAM, as an NPU's output does on a board (the accelerator writes it to memory,
  not into the CPU's caches). The heatmap's 32x larger output costs most here.
The two regimes run as two passes, hot first, so the cold pools cannot evict the hot inputs.

Inputs look like network outputs (noisy Gaussian bumps with sigma 2, peaks inside the crop);
int8 tensors are those bumps quantised with scale 1/100 and zero point -100.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from gaussian_vector.console.outputs import prepare_outputs

Key = TypeVar("Key", bound=Hashable)

K = 68
IMGSZ = 256  # the shipped input size
STRIDE = 4  # input pixels per output element (vector length = imgsz / 4)
BATCH = 64
SCALE, ZERO_POINT = 0.01, -100
DISTINCT = 8  # distinct faces in a cold pool (tiled to the pool size)

#: The targets (docs/design.md, "Targets"): ratio key -> (limit, "max" or "min").
TARGETS = {
    "gv_fp32_over_memcpy": (1.5, "max"),
    "heatmap_over_gv_fp32": (30.0, "min"),
    "heatmap_over_gv_int8": (30.0, "min"),
    "python_one_face_ns": (3000.0, "max"),
    "python_batch64_over_cpp": (1.5, "max"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="microbenchmark of the native GV and heatmap decoders",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    p.add_argument("--rounds", type=int, default=301,
                   help="interleaved rounds (median over them)")
    p.add_argument("--round-ms", type=float, default=0.2,
                   help="duration of each item within a round, in ms (short samples are less "
                        "often cut by the scheduler on a busy machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--imgsz", type=imgsz_list, default=[IMGSZ], metavar="N[,N]",
                   help=f"input sizes in pixels, multiples of 32 >= 64 (vectors and heatmaps of "
                        f"N/{STRIDE}), timed in the same rounds; default {IMGSZ}, e.g. 192,256")
    p.add_argument("--cold-mb", type=float, default=96.0,
                   help="size of each cold-input pool in MiB; make it several times the "
                        "last-level cache (0 skips the cold regime)")
    p.set_defaults(run=run)


def imgsz_list(text: str) -> list[int]:
    """--imgsz: comma-separated input sizes, each a multiple of 32 >= 64, no repeats."""
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(v < 64 or v % 32 for v in sizes) or len(set(sizes)) != len(sizes):
        raise argparse.ArgumentTypeError(
            f"takes distinct multiples of 32 >= 64 like 192,256, got {text!r}")
    return sizes


def bumps(rng: np.random.Generator, shape: tuple[int, ...], sigma: float = 2.0) -> np.ndarray:
    """Noisy 1-D Gaussian bumps along the last axis, peaks inside, float32."""
    n = shape[-1]
    centre = rng.uniform(4, n - 5, size=shape[:-1] + (1,))
    v = np.exp(-0.5 * ((np.arange(n) - centre) / sigma) ** 2) * 1.2
    return (v + rng.normal(0, 0.03, size=shape)).astype(np.float32)


def heatmaps(rng: np.random.Generator, n: int, side: int, sigma: float = 2.0) -> np.ndarray:
    """Noisy 2-D Gaussian heatmaps (n, K, side, side), float32."""
    cy = rng.uniform(4, side - 5, size=(n, K, 1, 1))
    cx = rng.uniform(4, side - 5, size=(n, K, 1, 1))
    yy, xx = np.mgrid[0:side, 0:side]
    g = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    return (g + rng.normal(0, 0.03, size=g.shape)).astype(np.float32)


def quantise(v: np.ndarray) -> np.ndarray:
    return np.clip(np.round(v / SCALE) + ZERO_POINT, -128, 127).astype(np.int8)


def python_ns_per_call(fn: Callable[[], object], calls: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - t0) / calls


def calibrate(item: Callable[[int], float], round_ms: float) -> int:
    """Iterations that make one timing of `item` last about `round_ms`."""
    iterations = 1
    while True:
        ns = item(iterations) * iterations
        if ns >= round_ms * 1e6 / 4 or iterations >= 1 << 24:
            return max(1, int(iterations * round_ms * 1e6 / max(ns, 1.0)))
        iterations *= 4


def pool(faces: np.ndarray, mib: float) -> np.ndarray:
    """`faces` (DISTINCT, ...) tiled along axis 0 to about `mib` MiB: a cold-input pool."""
    copies = max(2, int(mib * 2**20 / faces[0].nbytes))
    reps = -(-copies // len(faces))
    return np.ascontiguousarray(np.tile(faces, (reps,) + (1,) * (faces.ndim - 1))[:copies])


def cold_items(rng: np.random.Generator, mib: float,
               side: int) -> dict[str, Callable[[int], float]]:
    """The four decoders and their memcpys, each reading the next face of a cold pool."""
    from gaussian_vector import native

    x = pool(bumps(rng, (DISTINCT, K, side)), mib / 2)
    y = pool(bumps(rng, (DISTINCT, K, side)), mib / 2)
    xq, yq = quantise(x), quantise(y)
    hm = pool(heatmaps(rng, DISTINCT, side), mib)
    hq = quantise(hm)
    gv_bytes = np.concatenate([x, y], axis=-1)  # per slot: the bytes of one face's x and y
    gvq_bytes = np.concatenate([xq, yq], axis=-1)
    return {
        "cold_gv_fp32_ns": lambda it: native.benchmark_vectors(x, y, it, pool=True),
        "cold_gv_int8_ns": lambda it: native.benchmark_vectors(
            xq, yq, it, SCALE, ZERO_POINT, pool=True),
        "cold_heatmap_fp32_ns": lambda it: native.benchmark_heatmaps(hm, it, pool=True),
        "cold_heatmap_int8_ns": lambda it: native.benchmark_heatmaps(
            hq, it, SCALE, ZERO_POINT, pool=True),
        "cold_memcpy_gv_fp32_ns": lambda it: native.benchmark_memcpy(gv_bytes, it, pool=True),
        "cold_memcpy_gv_int8_ns": lambda it: native.benchmark_memcpy(gvq_bytes, it, pool=True),
        "cold_memcpy_heatmap_fp32_ns": lambda it: native.benchmark_memcpy(hm, it, pool=True),
        "cold_memcpy_heatmap_int8_ns": lambda it: native.benchmark_memcpy(hq, it, pool=True),
    }


def hot_items(rng: np.random.Generator, side: int) -> dict[str, Callable[[int], float]]:
    """Every hot item at one size (vectors of `side`, heatmaps side x side): iterations -> ns
    per face."""
    from gaussian_vector import native

    x, y = bumps(rng, (1, K, side)), bumps(rng, (1, K, side))
    xq, yq = quantise(x), quantise(y)
    hm = heatmaps(rng, 1, side)
    hq = quantise(hm)
    bx, by = bumps(rng, (BATCH, K, side)), bumps(rng, (BATCH, K, side))
    gv_bytes = np.concatenate([x, y])  # the same number of bytes as x and y together
    gvq_bytes = np.concatenate([xq, yq])
    gvq_packed = np.ascontiguousarray(np.concatenate([xq, yq], axis=-1))
    return {
        "gv_fp32_ns": lambda it: native.benchmark_vectors(x, y, it),
        "gv_int8_ns": lambda it: native.benchmark_vectors(xq, yq, it, SCALE, ZERO_POINT),
        # the optional parabola sub-pixel rule (docs/decoding.md 2b): what it costs per face
        "gv_fp32_parabola_ns": lambda it: native.benchmark_vectors(x, y, it,
                                                                    subpixel="parabola"),
        "gv_int8_parabola_ns": lambda it: native.benchmark_vectors(
            xq, yq, it, SCALE, ZERO_POINT, subpixel="parabola"),
        "heatmap_fp32_ns": lambda it: native.benchmark_heatmaps(hm, it),
        "heatmap_int8_ns": lambda it: native.benchmark_heatmaps(hq, it, SCALE, ZERO_POINT),
        "memcpy_gv_fp32_ns": lambda it: native.benchmark_memcpy(gv_bytes, it),
        "memcpy_gv_int8_ns": lambda it: native.benchmark_memcpy(gvq_bytes, it),
        "memcpy_heatmap_fp32_ns": lambda it: native.benchmark_memcpy(hm, it),
        "memcpy_heatmap_int8_ns": lambda it: native.benchmark_memcpy(hq, it),
        "python_one_face_ns": lambda it: python_ns_per_call(
            lambda: native.decode_vectors(x, y), it),
        "python_one_face_packed_int8_ns": lambda it: python_ns_per_call(
            lambda: native.decode_packed_int8(gvq_packed, side, SCALE, ZERO_POINT), it),
        "python_batch64_per_face_ns": lambda it: python_ns_per_call(
            lambda: native.decode_vectors(bx, by), it) / BATCH,
        "cpp_batch64_per_face_ns": lambda it: native.benchmark_vectors(bx, by, it) / BATCH,
    }


def measure(rounds: int, round_ms: float, seed: int, cold_mb: float = 0.0,
            sizes: Sequence[int] = (IMGSZ,)) -> dict:
    """Medians, minima and ratios of every item. One size: one flat dict; several: each size's
    dict under "by_imgsz" (keyed by the size as a string), every size timed in the same rounds."""
    from gaussian_vector import native

    rng = np.random.default_rng(seed)
    items = {(size, k): fn for size in sizes for k, fn in hot_items(rng, size // STRIDE).items()}
    # Hot and cold items run in separate passes: a cold item streams through pools far larger
    # than the caches and would evict the hot inputs at the start of every round. (The hot
    # float32 heatmap, 1.1 MB a face, is beyond a 1 MB L2 either way: on a shared VM its time
    # follows the L3 and varies from run to run; the JSON keeps every median and minimum.)
    samples = interleaved_rounds(items, rounds, round_ms, "hot")
    if cold_mb > 0:  # the pools are made only now, after the hot pass
        cold = {(size, k): fn for size in sizes
                for k, fn in cold_items(rng, cold_mb, size // STRIDE).items()}
        samples.update(interleaved_rounds(cold, rounds, round_ms, "cold"))
    by_size = {}
    for size in sizes:
        mine = {k: v for (s, k), v in samples.items() if s == size}
        result = {k: statistics.median(v) for k, v in mine.items()}
        result.update(ratios(result))
        if cold_mb > 0:
            result.update(ratios(result, prefix="cold_"))
            result["cold_pool_mib"] = cold_mb
        result["min_ns"] = {k: min(v) for k, v in mine.items()}
        result["imgsz"] = size
        result["length"] = size // STRIDE
        result["isa"] = native.isa()
        by_size[size] = result
    if len(sizes) == 1:
        return by_size[sizes[0]]
    return {"imgsz": list(sizes), "by_imgsz": {str(s): r for s, r in by_size.items()},
            "isa": native.isa()}


def interleaved_rounds(items: dict[Key, Callable[[int], float]], rounds: int, round_ms: float,
                       desc: str) -> dict[Key, list[float]]:
    """ns per face of every item, `rounds` times, the items interleaved within each round so
    that slow drifts of the machine touch them all alike."""
    from tqdm import tqdm

    iterations = {k: calibrate(fn, round_ms) for k, fn in items.items()}
    samples: dict[Key, list[float]] = {k: [] for k in items}
    for _ in tqdm(range(rounds), desc=f"{desc} rounds", unit="round", leave=False):
        for key, fn in items.items():
            samples[key].append(fn(iterations[key]))
    return samples


def ratios(r: dict[str, float], prefix: str = "") -> dict[str, float]:
    """The target ratios of one regime (prefix "" = hot, "cold_" = cold)."""
    def g(key: str) -> float:
        return r[prefix + key]

    out = {
        "gv_fp32_over_memcpy": g("gv_fp32_ns") / g("memcpy_gv_fp32_ns"),
        "gv_int8_over_memcpy": g("gv_int8_ns") / g("memcpy_gv_int8_ns"),
        "heatmap_over_gv_fp32": g("heatmap_fp32_ns") / g("gv_fp32_ns"),
        "heatmap_over_gv_int8": g("heatmap_int8_ns") / g("gv_int8_ns"),
        "heatmap_fp32_over_memcpy": g("heatmap_fp32_ns") / g("memcpy_heatmap_fp32_ns"),
    }
    if not prefix:
        out.update({
            "python_overhead_ns": r["python_one_face_ns"] - r["gv_fp32_ns"],
            "python_batch64_over_cpp": r["python_batch64_per_face_ns"] / r["gv_fp32_ns"],
            "python_batch64_over_cpp_batch64": (
                r["python_batch64_per_face_ns"] / r["cpp_batch64_per_face_ns"]),
        })
    return {prefix + k: v for k, v in out.items()}


def target_report(r: dict) -> dict[str, bool]:
    """Met or not, per target; the ratio targets also in the cold regime when it ran."""
    met = {}
    for key, (limit, kind) in TARGETS.items():
        for k in (key, "cold_" + key):
            if k in r:
                met[k] = r[k] <= limit if kind == "max" else r[k] >= limit
    return met


RATIO_KEYS = ("gv_fp32_over_memcpy", "gv_int8_over_memcpy", "heatmap_over_gv_fp32",
              "heatmap_over_gv_int8", "heatmap_fp32_over_memcpy")


def print_report(r: dict, met: dict[str, bool]) -> None:
    n = r["length"]
    print(f"native decoder, one face at {r['imgsz']} px: K={K}, vectors {n}+{n}, heatmaps "
          f"{n}x{n}; isa {r['isa']}")
    print(f"{'item':<34}{'median ns/face':>15}{'min':>10}")
    for key, value in r.items():
        if key.endswith("_ns") and key in r["min_ns"]:
            print(f"{key[:-3]:<34}{value:>15.1f}{r['min_ns'][key]:>10.1f}")

    def line(key: str) -> None:
        target = TARGETS.get(key.removeprefix("cold_"))
        note = ""
        if target:
            sign = "<=" if target[1] == "max" else ">="
            note = f"  {sign} {target[0]:g}: {'met' if met[key] else 'MISSED'}"
        print(f"{key:<34}{r[key]:>15.2f}{note}")

    print(f"{'ratio (of medians), hot input':<34}{'value':>15}  target")
    print(f"{'python_overhead':<34}{r['python_overhead_ns']:>15.1f}  ns per call")
    for key in (*RATIO_KEYS, "python_batch64_over_cpp", "python_batch64_over_cpp_batch64"):
        line(key)
    if "cold_gv_fp32_ns" in r:
        print(f"ratio, cold input ({r['cold_pool_mib']:g} MiB pools)")
        for key in RATIO_KEYS:
            line("cold_" + key)
    one = "met" if met["python_one_face_ns"] else "MISSED"
    print(f"python one face <= 3000 ns: {one} ({r['python_one_face_ns']:.0f} ns)")


def run(args: argparse.Namespace) -> int:
    if args.rounds < 1:
        raise SystemExit("--rounds must be >= 1")
    if not args.round_ms > 0:
        raise SystemExit("--round-ms must be > 0")
    if args.cold_mb < 0:
        raise SystemExit("--cold-mb must be >= 0")
    problem = prepare_outputs({"--json": args.json})
    if problem:
        raise SystemExit(f"gv-bench decode: {problem}")
    result = measure(args.rounds, args.round_ms, args.seed, args.cold_mb, args.imgsz)
    per_size = list(result["by_imgsz"].values()) if "by_imgsz" in result else [result]
    for i, r in enumerate(per_size):
        r["targets_met"] = target_report(r)
        if i:
            print()
        print_report(r, r["targets_met"])
    if args.json:
        payload = {**result, "machine": platform.platform(),
                   "processor": platform.processor() or platform.machine(),
                   "rounds": args.rounds}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
