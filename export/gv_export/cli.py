"""`gv-export MODEL --target onnx|tflite [--int8] [--calib DIR] [--imgsz N] [-o OUT] [--npu ACC]`.

Errors the user can fix print one line and exit 1; there is no traceback unless --verbose."""

from __future__ import annotations

import argparse
import json
import os
import sys

from gaussian_vector.cli.argtypes import int_at_least, nonnegative_float
from gaussian_vector.cli.extras import need
from gaussian_vector.cli.outputs import prepare_outputs

from .errors import ExportError

try:  # the int8 gate's default, for --help: validate imports torch, which a board lacks
    from .validate import INT8_MAX_NME_INCREASE
except ImportError:
    INT8_MAX_NME_INCREASE = None

EPILOG = """examples:
  gv-export default --target tflite --int8 --npu ethos-u55-256 --max-nme-increase 0.05
  gv-export runs/gv/best.pt --target onnx -o out/
  gv-export heatmap --target tflite --int8 --calib data/300w/helen/trainset
docs: docs/export.md"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gv-export", description="Export a gaussian-vector checkpoint to ONNX or TFLite "
        "(fp32 or full int8), validated against torch on real faces.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="checkpoint .pt, or an alias: default, gv, heatmap")
    p.add_argument("--target", required=True, help="onnx or tflite")
    p.add_argument("--int8", action="store_true",
                   help="full-integer int8 TFLite (int8 input and output, no float ops)")
    p.add_argument("--calib", metavar="DIR", help="300-W-layout folder of NAME.jpg + NAME.pts "
                   "for calibration and validation (default: the packaged sample faces)")
    p.add_argument("--calib-max", type=int_at_least(1), default=64, metavar="N",
                   help="use at most N faces (default 64)")
    p.add_argument("--imgsz", type=int, metavar="N", help="input size (default: the model's)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file or folder "
                   "(default ./NAME[_int8].EXT)")
    p.add_argument("--npu", metavar="ACCEL", help="compile with vela for this Ethos-U config, "
                   "e.g. ethos-u55-256, and report NPU coverage and cycles (needs --int8)")
    p.add_argument("--bpm", choices=("fused", "separable"), default="fused",
                   help="GV tail: means before the 1x1 head (fused, default) or after it")
    gate = "the int8 gate" if INT8_MAX_NME_INCREASE is None else INT8_MAX_NME_INCREASE
    p.add_argument("--max-nme-increase", type=nonnegative_float, default=INT8_MAX_NME_INCREASE,
                   metavar="F", help="int8 fails when its NME exceeds torch's by more than this "
                   f"fraction (default {gate})")
    p.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show converter output and tracebacks")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
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
        from .exporter import export

        result = export(
            args.model, args.target, int8=args.int8, calib=args.calib, imgsz=args.imgsz,
            out=args.output, npu=args.npu, bpm_form=args.bpm, max_faces=args.calib_max,
            max_nme_increase=args.max_nme_increase, verbose=args.verbose)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"path": str(result.path), "bytes": result.size,
                           "seconds": result.seconds, "validation": result.validation.to_dict(),
                           "vela": result.vela.to_dict() if result.vela else None,
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


if __name__ == "__main__":
    sys.exit(main())
