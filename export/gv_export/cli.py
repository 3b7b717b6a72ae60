"""`gv-export MODEL --target onnx|tflite [--int8] [--calib DIR] [--imgsz N] [-o OUT] [--npu ACC]`.

Errors the user can fix print one line and exit 1; there is no traceback unless --verbose."""

from __future__ import annotations

import argparse
import json
import os
import sys

from gaussian_vector.checkpoint import ALIASES
from gaussian_vector.console.argtypes import int_at_least, nonnegative_float
from gaussian_vector.console.extras import need
from gaussian_vector.console.outputs import prepare_outputs
from gaussian_vector.modelfile.formats import FORMATS

from .errors import ExportError

try:  # the int8 gate's defaults, for --help: validate imports torch, which a board lacks
    from .validate import INT8_MAX_NME_INCREASE, SAMPLES_MAX_NME_INCREASE
except ImportError:
    INT8_MAX_NME_INCREASE = SAMPLES_MAX_NME_INCREASE = None

EPILOG = """examples:
  gv-export default --target tflite --int8                # int8 for the CPU (XNNPACK)
  gv-export default --target tflite --int8 --npu ethos-u55-256  # int8 for the Ethos-U
  gv-export default --npu rk3588      # .rknn, judged in rknn-toolkit2's simulator
  gv-export default --npu qnn-htp     # QDQ .onnx, judged in the Qualcomm HTP simulator
  gv-export runs/gv/best.pt --target onnx -o out/
  gv-export heatmap --target tflite --int8 --calib data/300w/helen/trainset
docs: docs/export.md"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gv-export", description="Export a gaussian-vector checkpoint to ONNX or TFLite "
        "(fp32 or full int8), validated against torch on real faces.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help=f"checkpoint .pt, or an alias: {', '.join(ALIASES)}")
    p.add_argument("--target", help=f"{' or '.join(sorted(FORMATS))} (with a vendor --npu: "
                   "implied)")
    p.add_argument("--int8", action="store_true",
                   help="full-integer int8 TFLite (int8 input and output, no float ops)")
    p.add_argument("--calib", metavar="DIR", help="300-W-layout folder of NAME.jpg + NAME.pts "
                   "for calibration and validation (default: the packaged sample faces)")
    p.add_argument("--calib-max", type=int_at_least(1), default=64, metavar="N",
                   help="use at most N faces (default 64)")
    p.add_argument("--imgsz", type=int, metavar="N", help="input size (default: the model's)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file or folder "
                   "(default ./NAME[_int8].EXT)")
    p.add_argument("--npu", metavar="ACCEL", help="export for this NPU instead of the CPU: the "
                   "graph it runs fastest, compiled with vela for an Ethos-U config (e.g. "
                   "ethos-u55-256; needs --target tflite --int8), or for rk3588, rv1106, rk3566 "
                   "(.rknn) or qnn-htp (QDQ .onnx), judged in the vendor's simulator (its "
                   "environment: tools/npu_env.sh; docs/npu.md)")
    p.add_argument("--graph", metavar="K=V,...", help="override the target's graph choices: "
                   "hardswish=op|relu6, means=conv|mean, upsample=resize|copy, "
                   "bpm=fused|separable, squeeze=mean|pool, filter=fc|conv (docs/export.md)")
    p.add_argument("--bpm", choices=("fused", "separable"),
                   help="GV tail: means before the 1x1 head (fused, default) or after it; "
                   "short for --graph bpm=...")
    p.add_argument("--allow-cpu-ops", action="store_true", help="CPU-target .tflite: write it "
                   "even when some ops fall outside XNNPACK (they are refused by default)")
    gate = ("3%% with --calib, 10%% on the packaged samples" if INT8_MAX_NME_INCREASE is None
            else f"{INT8_MAX_NME_INCREASE} with --calib, {SAMPLES_MAX_NME_INCREASE} on the "
            "packaged samples' views")
    p.add_argument("--max-nme-increase", type=nonnegative_float, default=None,
                   metavar="F", help="int8 fails when its NME exceeds torch's by more than this "
                   f"fraction (default {gate})")
    p.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show converter output and tracebacks")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.target and not args.npu:
        parser().error("--target is required (or a vendor --npu, which implies it)")
    problem = need("gv-export", "torch", extra="export")
    if problem:
        print(f"gv-export: error: {problem}", file=sys.stderr)
        return 1
    out = args.output  # a folder (existing, or ending in a separator) or a file name
    out_is_folder = bool(out) and (os.path.isdir(out) or out.endswith(os.sep))
    problem = prepare_outputs({"--json": args.json, "--output": None if out_is_folder else out},
                              {"--output": out if out_is_folder else None})
    if problem:
        print(f"gv-export: error: {problem}", file=sys.stderr)
        return 1
    try:
        from .exporter import ExportOptions, export

        result = export(args.model, args.target, ExportOptions(
            int8=args.int8, calib=args.calib, imgsz=args.imgsz, out=args.output, npu=args.npu,
            graph=_graph_spec(args), max_faces=args.calib_max,
            max_nme_increase=args.max_nme_increase, allow_cpu_ops=args.allow_cpu_ops,
            verbose=args.verbose))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"path": str(result.path), "bytes": result.size,
                           "seconds": result.seconds, "validation": result.validation.to_dict(),
                           "vela": result.vela.to_dict() if result.vela else None,
                           "xnnpack": (result.delegation.to_dict() if result.delegation
                                       else None),
                           "npu": result.npu,
                           "metadata": json.loads(result.metadata.to_json())}, f, indent=2)
    except ExportError as e:
        if args.verbose:
            raise
        print(f"gv-export: error: {e}", file=sys.stderr)
        return 1
    except ImportError as e:  # torch or the core itself missing
        print(f"gv-export: error: {e}: pip install 'gaussian-vector[export]'", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gv-export: interrupted", file=sys.stderr)
        return 130
    return 0


def _graph_spec(args: argparse.Namespace) -> str | None:
    """--graph with --bpm folded in (--bpm is its older spelling)."""
    parts = [args.graph] if args.graph else []
    if args.bpm:
        parts.append(f"bpm={args.bpm}")
    return ",".join(parts) or None


if __name__ == "__main__":
    sys.exit(main())
