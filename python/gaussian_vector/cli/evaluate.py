"""gv-eval: accuracy of a landmark model on a 300-W-layout folder (boxes from the landmarks).

Reports NME (inter-ocular and inter-pupil), FR@0.1, AUC@0.1 and per-landmark error; writes the
numbers as JSON (fractions, not %) and the CED curve as a PNG. `--model` takes a checkpoint
path, an alias ('default' = GV, 'heatmap'), or an exported .onnx/.tflite (through the runtime,
which can also take its boxes from the bundled face detector: `--boxes detector`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from ..decode import SUBPIXEL_MODES
from ..metrics import format_summary
from .argtypes import positive_float
from .extras import need, one_line_errors
from .outputs import prepare_outputs


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gv-eval", description=__doc__)
    p.add_argument("--model", action="append", required=True,
                   help="checkpoint, alias (default, heatmap), exported .tflite/.onnx model, or "
                   "a shipped export (default-int8, default-onnx); repeat to compare several on "
                   "one CED plot")
    p.add_argument("--data", type=Path, required=True, help="300-W-layout folder (recursive)")
    p.add_argument("--names", type=Path, help="file of names to keep (e.g. helen/val.txt)")
    p.add_argument("--json", type=Path, help="write the metrics here")
    p.add_argument("--plot", type=Path, help="write the CED curve (PNG) here")
    p.add_argument("--shrink", type=float, default=0.0,
                   help="shrink the face boxes by this fraction (0.1 = 10%%) before cropping")
    p.add_argument("--boxes", choices=("landmarks", "detector"), default="landmarks",
                   help="face boxes: the ground truth's tight box (default), or the bundled "
                   "face detector's (exported models; faces it misses are counted, not scored)")
    p.add_argument("--boxes-file", type=Path,
                   help="face boxes to crop with, 'NAME x0 y0 x1 y1' a line (0-based pixels; "
                   "faces not named there use their landmarks' tight box)")
    p.add_argument("--refine", action="store_true",
                   help="exported models: the runtime's second pass on the box of its own "
                   "first landmarks")
    p.add_argument("--no-bbs", action="store_true", help="GV: decode without Beyond Box")
    p.add_argument("--subpixel", choices=SUBPIXEL_MODES, default="quarter",
                   help="sub-pixel rule for an interior peak: the paper's quarter-pixel shift "
                   "(default) or the vertex of the parabola through the peak and its neighbours")
    p.add_argument("--tau", type=positive_float, help="Beyond Box tau (default: the model's)")
    p.add_argument("--sigma", type=positive_float,
                   help="Beyond Box sigma (default: the model's)")
    p.add_argument("--threshold", type=positive_float, default=0.1,
                   help="FR/AUC/CED threshold")
    p.add_argument("--points", type=int, default=68, help="points per .pts file")
    p.add_argument("--sweep-bbs", action="store_true",
                   help="GV checkpoints: ION for a grid of Beyond Box tau x sigma (and BBS off) "
                   "from one network pass, written to --json")
    p.add_argument("--taus", type=positive_float, nargs="+", default=[1.0, 1.5, 2.0, 2.5, 3.0])
    p.add_argument("--sigmas", type=positive_float, nargs="+",
                   default=[1.0, 1.5, 2.0, 2.5, 3.0])
    return p


def sweep(args, samples, scheme: str) -> int:
    """--sweep-bbs: one network pass, many decodings; prints and writes the grid."""
    from ..checkpoint import load
    from ..evaluate import infer_torch, is_exported, sweep_beyond_box

    if is_exported(args.model[0]):
        print(f"gv-eval: --sweep-bbs runs a torch checkpoint once and decodes its vectors many "
              f"times: give a .pt or an alias, not {args.model[0]}", file=sys.stderr)
        return 2
    try:
        model, config, _ = load(args.model[0])
    except (FileNotFoundError, ValueError) as e:
        print(f"gv-eval: --sweep-bbs needs a GV checkpoint: {e}", file=sys.stderr)
        return 2
    if config.head != "gv":
        print("gv-eval: --sweep-bbs needs a GV model", file=sys.stderr)
        return 2
    o = infer_torch(model, config, samples, shrink=args.shrink)
    rows = sweep_beyond_box(o, samples, args.taus, args.sigmas, scheme, args.subpixel)
    best = min(rows[1:], key=lambda r: r["nme_ion"])
    for r in rows:
        tag = "BBS off" if not r["beyond_box"] else f"tau {r['tau']:g} sigma {r['sigma']:g}"
        print(f"{tag:>20}: ION {100 * r['nme_ion']:.3f}%{'  <- best' if r is best else ''}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": args.model[0], "shrink": args.shrink,
                                         "subpixel": args.subpixel, "n": len(samples),
                                         "rows": rows, "best": best},
                                        indent=1))
    return 0


def plot_ced(curves: dict[str, np.ndarray], path: Path, threshold: float = 0.1) -> None:
    """One CED line per model (per-image ION NME arrays), x in % of the normaliser."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..metrics import auc, ced

    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    for label, nme in curves.items():
        xs, ys = ced(nme, threshold)
        ax.plot(xs * 100, ys, label=f"{label} (AUC {auc(nme, threshold):.3f})")
    ax.set_xlabel("NME, inter-ocular (%)")
    ax.set_ylabel("fraction of images")
    ax.set_xlim(0, threshold * 100)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def compare_first(results: dict[str, dict]) -> list[dict]:
    """Each further model against the first on the images both scored: the paired difference
    of per-image ION (bootstrap 95% interval), printed and returned for the JSON."""
    from ..metrics import paired_difference

    names = list(results)
    rows = []
    first = results[names[0]]
    for other in names[1:]:
        r = results[other]
        common = sorted(set(first["names"]) & set(r["names"]))
        if not common:
            continue
        a = dict(zip(first["names"], first["per_image_ion"], strict=True))
        b = dict(zip(r["names"], r["per_image_ion"], strict=True))
        d = paired_difference([a[n] for n in common], [b[n] for n in common])
        rows.append({"a": names[0], "b": other, **d})
        print(f"{names[0]} - {other}: ION {100 * d['mean']:+.3f} points (95% CI "
              f"{100 * d['ci_low']:+.3f} .. {100 * d['ci_high']:+.3f}); lower on "
              f"{d['a_lower']} vs {d['b_lower']} of {d['n']} images")
    return rows


def missing_packages(args: argparse.Namespace) -> str | None:
    """One line naming the extra to install when these arguments need a package that is not
    installed (torch checkpoints need torch, --plot matplotlib), before any data is read."""
    from ..evaluate import is_exported

    checkpoints = [m for m in args.model if not is_exported(m)]
    if checkpoints or args.sweep_bbs:
        what = f"--model {checkpoints[0]} (a checkpoint)" if checkpoints else "--sweep-bbs"
        problem = need(what, "torch")
        if problem:
            return problem
    return need("--plot", "matplotlib") if args.plot else None


@one_line_errors("gv-eval")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    problem = missing_packages(args)
    if problem:
        print(f"gv-eval: error: {problem}", file=sys.stderr)
        return 2
    from ..data.readers import read_300w, read_name_list
    from ..evaluate import evaluate, predict

    if not 0 <= args.shrink < 1:
        print(f"gv-eval: --shrink must be in [0, 1), got {args.shrink}", file=sys.stderr)
        return 2
    problem = prepare_outputs({"--json": args.json, "--plot": args.plot})
    if problem:
        print(f"gv-eval: {problem}", file=sys.stderr)
        return 2
    from ..schemes import get_scheme

    try:
        scheme = get_scheme(args.points).name
        names = read_name_list(args.names) if args.names else None
        samples, summary = read_300w(args.data, n_points=args.points, names=names)
    except (FileNotFoundError, ValueError) as e:
        print(f"gv-eval: {e}", file=sys.stderr)
        return 2
    if not samples:
        print(f"gv-eval: no annotated faces in {args.data} ({summary})", file=sys.stderr)
        return 2
    if args.boxes_file:
        if args.boxes == "detector":
            print("gv-eval: --boxes-file and --boxes detector exclude each other", file=sys.stderr)
            return 2
        from ..data.boxes import read_boxes, with_boxes

        try:
            samples, n_missing = with_boxes(samples, read_boxes(args.boxes_file))
        except (FileNotFoundError, ValueError) as e:
            print(f"gv-eval: {e}", file=sys.stderr)
            return 2
        if n_missing:
            print(f"gv-eval: {n_missing} of {len(samples)} faces have no box in "
                  f"{args.boxes_file}: they use their landmarks' box", file=sys.stderr)
    if args.sweep_bbs:
        return sweep(args, samples, scheme)
    results, curves = {}, {}
    boxes_label = str(args.boxes_file) if args.boxes_file else args.boxes
    for model in args.model:
        try:
            pred, config = predict(model, samples, shrink=args.shrink,
                                   beyond_box=not args.no_bbs, tau=args.tau, sigma=args.sigma,
                                   progress=sys.stderr.isatty(), boxes=args.boxes,
                                   refine=args.refine, subpixel=args.subpixel)
        except (FileNotFoundError, ValueError) as e:
            print(f"gv-eval: {e}", file=sys.stderr)
            return 2
        # Only a detector miss leaves NaN rows; other predictions are scored as they are.
        found = (~np.isnan(pred).any(axis=(1, 2)) if args.boxes == "detector"
                 else np.ones(len(samples), bool))
        missed = [s.name for s, f in zip(samples, found, strict=True) if not f]
        if not found.any():
            print(f"gv-eval: {model}: the detector found none of the {len(samples)} faces",
                  file=sys.stderr)
            return 1
        scored = [s for s, f in zip(samples, found, strict=True) if f]
        res = evaluate(pred[found], scored, scheme, args.threshold)
        res.update(model=str(model), data=str(args.data), shrink=args.shrink,
                   boxes=boxes_label,
                   refine=args.refine, missed=missed,
                   beyond_box=not args.no_bbs, subpixel=args.subpixel,
                   skipped=len(summary.skipped),
                   head=config.head,
                   tau=config.tau if args.tau is None else args.tau,
                   sigma=config.sigma if args.sigma is None else args.sigma,
                   names=[s.name for s in scored])
        results[str(model)] = res
        curves[str(model)] = np.asarray(res["per_image_ion"])
        print(f"{model}: n={res['n']} {format_summary(res, args.threshold)}  (shrink "
              f"{args.shrink:g}, BBS "
              f"{'off' if args.no_bbs else 'on'}, {args.subpixel}, boxes {boxes_label}"
              f"{', refined' if args.refine else ''})")
        if missed:
            print(f"  the detector missed {len(missed)} of {len(samples)} faces (not scored): "
                  f"{', '.join(missed[:10])}{' ...' if len(missed) > 10 else ''}")
    comparison = compare_first(results)
    if args.json:
        out = (next(iter(results.values())) if len(results) == 1
               else {"models": results, "comparison": comparison})
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    if args.plot:
        plot_ced(curves, args.plot, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
