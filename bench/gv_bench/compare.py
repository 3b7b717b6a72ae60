"""`gv-bench`: GV against the heatmap baseline, side by side in one run, per format.

With no model arguments it exports the shipped GV and heatmap checkpoints (int8 and fp32
TFLite, and ONNX) into a cache and benchmarks those. Checkpoints given with --gv/--heatmap are
exported the same way; exported .tflite/.onnx files are benchmarked as they are.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from gaussian_vector import checkpoint
from gaussian_vector.console.extras import need, one_line_errors
from gaussian_vector.console.outputs import prepare_outputs
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.heads import head_of
from gaussian_vector.modelfile.formats import FORMATS as MODEL_FORMATS
from gaussian_vector.modelfile.formats import format_of
from gaussian_vector.runtime.decoding import decode_output

from . import report
from .paper import TABLE9
from .pipeline import ModelUnderTest, compare, measure, measure_rss, peer_ratio, summarise
from .runners import Loaded, load, load_peer

#: what gv-bench measures of a checkpoint, from the formats table: each model-file format in
#: int8 (where it has full-int8 files) and fp32 -> (gv-export target, int8)
FORMATS = {f"{f.name}-{precision}": (f.name, precision == "int8")
           for f in MODEL_FORMATS.values()
           for precision in (("int8", "fp32") if f.int8 else ("fp32",))}


class BenchError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gv", default="default", metavar="M",
                   help="GV model: checkpoint, alias or exported .tflite/.onnx (default: default)")
    p.add_argument("--heatmap", default="heatmap", metavar="M",
                   help="heatmap baseline, same forms (default: the shipped baseline)")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help=f"comma-separated, from {', '.join(FORMATS)} (checkpoints only)")
    p.add_argument("--runs", type=int, default=100, help="measured runs per model (default 100)")
    p.add_argument("--warmup", type=int, default=10, help="runs before measuring (default 10)")
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1: "
                   "steady figures; more threads gave bimodal times on a 2-core machine)")
    p.add_argument("--imgsz", metavar="N[,N]", help="checkpoints: export at these input sizes "
                   "(multiples of 32; default the checkpoint's), e.g. 192,256")
    p.add_argument("--peer", action="append", default=[], metavar="MODEL.tflite",
                   help="another landmark model whose forward pass is timed on the same "
                   "interpreter and threads (e.g. MediaPipe's face mesh; repeatable)")
    p.add_argument("--delegate", metavar="LIB", help="external TFLite delegate library")
    p.add_argument("--bus-gbps", type=float, default=8.0,
                   help="modelled NPU-to-CPU bus bandwidth in Gbit/s (default 8)")
    p.add_argument("--npu", default="ethos-u55-256", metavar="ACCEL",
                   help="vela config for the NPU estimate of int8 models (default ethos-u55-256)")
    p.add_argument("--no-npu", action="store_true", help="skip the vela estimate")
    p.add_argument("--cache", type=Path, default=None,
                   help="export cache (default $GV_CACHE or ~/.cache/gaussian-vector)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write all figures as JSON")
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="write a bar chart")


def cache_root(arg: Path | None) -> Path:
    root = arg or Path(os.environ.get("GV_CACHE", Path.home() / ".cache" / "gaussian-vector"))
    return root / "bench"


def _exported(model: str, fmt: str, cache: Path, log: Callable[[str], None],
              imgsz: int | None = None, npu: str | None = None) -> Path:
    """Export checkpoint/alias `model` to `fmt` (at input size `imgsz`, for the CPU or the NPU
    `npu`) once; reuse the file while the checkpoint is unchanged (the cache key is a hash of
    its bytes)."""
    from gv_export.errors import ExportError
    from gv_export.exporter import ExportOptions, export

    try:
        src = checkpoint.resolve(model)
    except FileNotFoundError as e:
        raise BenchError(str(e)) from None
    digest = hashlib.sha1(src.read_bytes()).hexdigest()[:12]
    target, int8 = FORMATS[fmt]
    size = f"-{imgsz}px" if imgsz else ""
    where = f"-{npu}" if npu else ""
    dest = cache / f"{src.stem}-{digest}-{fmt}{size}{where}{MODEL_FORMATS[target].suffix}"
    if not dest.is_file():
        log(f"exporting {src.name} -> {dest.name}")
        try:
            # The bench measures speed and size. gv-export's int8 accuracy gate is judged on the
            # few packaged sample faces here, which is noise for that purpose: it is reported,
            # not enforced (gv-eval measures int8 accuracy on a real split). Ops outside
            # XNNPACK are measured, not refused: the table shows the partitions.
            result = export(str(src), target, ExportOptions(
                int8=int8, out=dest, imgsz=imgsz, npu=npu, max_nme_increase=math.inf,
                allow_cpu_ops=True), log=lambda s: None)
        except ExportError as e:
            raise BenchError(f"exporting {src.name} to {fmt} failed: {e}") from None
        if int8:
            v = result.validation
            log(f"  int8 NME {100 * v.nme_change:+.1f}% relative to torch on {v.faces} sample "
                "faces (not gated here: gv-eval measures accuracy on a real split)")
    return dest


def _format_of(loaded: Loaded) -> str:
    dtype = loaded.metadata.output.dtype
    return f"{loaded.fmt}-{'fp32' if dtype == 'float32' else dtype}"


def _decoders(loaded: Loaded) -> tuple[Callable, Callable]:
    """(native, numpy reference) decoders for this model's output, from its metadata.

    Post-processing is timed on the native module itself, both heads through the same pybind11
    binding (about 1 µs per call); the runtime's convenience wrapper adds a few µs of Python
    around it for either head, which would hide the decoders' difference."""
    from gaussian_vector import native

    meta = loaded.metadata
    cfg, out = meta.config, meta.output
    head, rules = head_of(cfg), DecodeRules.of(cfg)
    quant = None if out.dtype == "float32" else (out.scale, out.zero_point)
    return head.decoder(rules, quant, native), partial(
        decode_output, head, rules=rules, scale=out.scale, zero_point=out.zero_point,
        use_native=False)


def _open(path: Path, head: str, args: argparse.Namespace, tag: str = "") -> ModelUnderTest:
    from gaussian_vector.modelfile.errors import RuntimeFailure

    try:
        loaded, rss = measure_rss(lambda: load(path, args.threads, args.delegate))
    except (RuntimeFailure, ValueError, OSError) as e:
        raise BenchError(f"{path}: {e}") from None
    if loaded.metadata.config.head != head:
        raise BenchError(f"--{head} {path} is a {loaded.metadata.config.head!r} model, not "
                         f"{head!r}: gv-bench needs a GV model and a heatmap baseline")
    try:
        native, reference = _decoders(loaded)
    except ImportError as e:
        raise BenchError(f"the native decoder is not installed ({e}): `pip install .`") from None
    fmt = _format_of(loaded)
    return ModelUnderTest(f"{head} {fmt}{tag}", head, fmt, loaded, native, reference, rss)


def _open_peer(path: str, args: argparse.Namespace) -> ModelUnderTest:
    """A --peer model: timed forward and fetch only (it is another task, with no decoder)."""
    from gaussian_vector.modelfile.errors import RuntimeFailure

    if not str(path).lower().endswith(".tflite") or not Path(path).is_file():
        raise BenchError(f"--peer {path}: not a .tflite file")
    try:
        loaded, rss = measure_rss(lambda: load_peer(Path(path), args.threads))
    except (RuntimeFailure, ValueError, OSError) as e:
        raise BenchError(f"--peer {path}: {e}") from None
    return ModelUnderTest(f"peer {Path(path).stem}", "peer", "tflite", loaded, None, None, rss)


def _sizes(args: argparse.Namespace) -> list[int | None]:
    """--imgsz as a list of sizes ([None]: the checkpoint's)."""
    if not args.imgsz:
        return [None]
    try:
        sizes = [int(v) for v in str(args.imgsz).split(",") if v.strip()]
    except ValueError:
        raise BenchError(f"--imgsz takes sizes like 192,256, got {args.imgsz!r}") from None
    bad = [v for v in sizes if v < 64 or v % 32]
    if bad or not sizes:
        raise BenchError(f"--imgsz sizes must be multiples of 32 >= 64, got {args.imgsz!r}")
    return sizes


def _pairs(args: argparse.Namespace, log: Callable[[str], None]) -> list[tuple[Path, Path, str]]:
    """(GV file, heatmap file, label suffix) per format and size to measure."""
    exported = [format_of(m) is not None for m in (args.gv, args.heatmap)]
    if all(exported):
        for m in (args.gv, args.heatmap):
            if not Path(m).is_file():
                raise BenchError(f"model file not found: {m}")
        if args.imgsz:
            raise BenchError("--imgsz exports checkpoints; exported files keep their size")
        return [(Path(args.gv), Path(args.heatmap), "")]
    if any(exported):
        raise BenchError("give --gv and --heatmap in the same form: both exported files, or "
                         "both checkpoints/aliases (exported for every --formats)")
    problem = need("exporting checkpoints to benchmark (.tflite/.onnx files need none)", "torch",
                   extra="export")
    if problem:
        raise BenchError(problem)
    fmts = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown or not fmts:
        raise BenchError(f"unknown format(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(FORMATS)}")
    sizes = _sizes(args)
    cache = _cache(args)
    return [(_exported(args.gv, f, cache, log, size), _exported(args.heatmap, f, cache, log, size),
             f" {size}px" if size else "")
            for size in sizes for f in fmts]


def _cache(args: argparse.Namespace) -> Path:
    """The export cache folder, checked writable."""
    cache = cache_root(args.cache)
    problem = prepare_outputs(folders={"--cache" if args.cache else "the export cache": cache})
    if problem:
        raise BenchError(problem)
    return cache


def _check_pair(gv: ModelUnderTest, hm: ModelUnderTest) -> None:
    a, b = gv.loaded.metadata, hm.loaded.metadata
    if (a.config.num_landmarks, a.config.input_size) != (b.config.num_landmarks,
                                                         b.config.input_size):
        raise BenchError(
            f"not a GV/heatmap pair: GV has K={a.config.num_landmarks} at "
            f"{a.config.input_size}px, heatmap K={b.config.num_landmarks} at "
            f"{b.config.input_size}px")
    if gv.fmt != hm.fmt:
        raise BenchError(f"not a GV/heatmap pair: formats differ ({gv.fmt} vs {hm.fmt})")


def _npu(args: argparse.Namespace, pairs: list[tuple[ModelUnderTest, ModelUnderTest]],
         paths: list[tuple[Path, Path, str]], log: Callable[[str], None]) -> dict:
    """vela estimates of the GV and heatmap int8 models for the NPU, or {"skipped": why}.

    Checkpoints are exported for the NPU target (its own graph, not the CPU's); exported files
    are compiled as they are."""
    try:
        from gv_export.errors import ExportError
        from gv_export.vela_report import run_vela
    except ImportError:
        return {"skipped": "gv_export is not installed"}
    accel = args.npu
    for (gv, _hm), (gpath, hpath, _tag) in zip(pairs, paths, strict=True):
        if gv.fmt != "tflite-int8":
            continue
        try:
            if format_of(args.gv) is None:
                cache, size = _cache(args), gv.loaded.metadata.config.input_size
                gpath, hpath = (_exported(m, "tflite-int8", cache, log, size, npu=accel)
                                for m in (args.gv, args.heatmap))
            log(f"vela {accel}: estimating both int8 models")
            return {"accelerator": accel, "gv": run_vela(gpath, accel).to_dict(),
                    "heatmap": run_vela(hpath, accel).to_dict()}
        except (ExportError, BenchError) as e:
            return {"skipped": str(e)}
    return {"skipped": "no int8 TFLite pair in this run"}


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by parsed `args`; raises BenchError for user errors."""
    if args.runs < 1:
        raise BenchError(f"--runs must be >= 1, got {args.runs}")
    if args.warmup < 0:
        raise BenchError(f"--warmup must be >= 0, got {args.warmup}")
    problem = (prepare_outputs({"--json": args.json, "--plot": args.plot})
               or (need("--plot", "matplotlib") if args.plot else None))
    if problem:
        raise BenchError(problem)
    if args.threads < 1:
        raise BenchError(f"--threads must be >= 1, got {args.threads}")
    if not args.bus_gbps > 0:
        raise BenchError(f"--bus-gbps must be > 0, got {args.bus_gbps}")
    log = print
    peers = [_open_peer(p, args) for p in args.peer]
    paths = _pairs(args, log)
    pairs = []
    for gpath, hpath, tag in paths:
        pair = (_open(gpath, "gv", args, tag), _open(hpath, "heatmap", args, tag))
        _check_pair(*pair)
        pairs.append(pair)
    models = [m for pair in pairs for m in pair] + peers
    measure(models, args.runs, args.warmup)
    results = [summarise(m, args.bus_gbps) for m in models]
    by_label = {r["label"]: r for r in results}
    comparisons = [compare(by_label[gv.label], by_label[hm.label]) for gv, hm in pairs]
    against_peers = [peer_ratio(by_label[gv.label], by_label[p.label])
                     for gv, _ in pairs for p in peers if gv.fmt.startswith("tflite")]
    report.print_table(results, comparisons, args.bus_gbps, against_peers)
    npu = {"skipped": "--no-npu"} if args.no_npu else _npu(args, pairs, paths, log)
    if "gv" in npu:
        g, h = npu["gv"], npu["heatmap"]
        log(f"NPU estimate ({npu['accelerator']}): GV {g['time_ms']:.3f} ms, "
            f"{g['cycles']:,.0f} cycles, {100 * g['npu_share']:.0f}% ops on NPU; heatmap "
            f"{h['time_ms']:.3f} ms, {h['cycles']:,.0f} cycles, {100 * h['npu_share']:.0f}% "
            f"ops on NPU; GV/heatmap cycles {g['cycles'] / h['cycles']:.3f}")
    elif "skipped" in npu:
        log(f"NPU estimate skipped: {npu['skipped']}")
    payload = {"machine": report.machine(), "runs": args.runs, "warmup": args.warmup,
               "threads": args.threads, "bus_gbps": args.bus_gbps,
               "models": {r["label"]: r for r in results}, "comparisons": comparisons,
               "against_peers": against_peers, "npu": npu, "paper_table9": TABLE9}
    if args.json:
        report.write_json(args.json, payload)
        log(f"wrote {args.json}")
    if args.plot:
        report.plot(args.plot, results)
        log(f"wrote {args.plot}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gv-bench",
        description="Latency, transmission and size of GV against the heatmap baseline, side by "
        "side in one run (`gv-bench decode` benchmarks the native decoders alone).",
    )
    add_arguments(p)
    return p


@one_line_errors("gv-bench")
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except BenchError as e:
        print(f"gv-bench: error: {e}", file=sys.stderr)
        return 2
