"""gv-eval: accuracy of a landmark model on a 300-W-layout folder (boxes from the landmarks).

Reports NME (inter-ocular and inter-pupil), FR@0.1, AUC@0.1 and per-landmark error; writes the
numbers as JSON (fractions, not %) and the CED curve as a PNG. `--model` takes a checkpoint
path, an alias ('default' = GV, 'heatmap'), or an exported .onnx/.tflite (through the runtime).
`--detector` evaluates end to end: the bundled face detector's boxes, matched to each
annotation, misses counted, beside the box-from-landmarks figure on the same faces.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from ..checkpoint import ALIASES
from ..console.argtypes import positive_float
from ..console.extras import installed, need, one_line_errors
from ..console.outputs import prepare_outputs
from ..evaluate import MIN_IOU
from ..metrics import format_summary
from ..modelfile.shipped import SHIPPED
from .decode_options import add_decode_options, rule_changes


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gv-eval", description=__doc__)
    p.add_argument("--model", action="append", required=True,
                   help=f"checkpoint, alias ({', '.join(ALIASES)}), exported .tflite/.onnx "
                   "model, or a shipped export "
                   f"({', '.join(n for n in SHIPPED if n not in ALIASES)}); repeat to compare "
                   "several on one CED plot")
    p.add_argument("--data", type=Path, required=True, help="300-W-layout folder (recursive)")
    p.add_argument("--names", type=Path, help="file of names to keep (e.g. helen/val.txt)")
    p.add_argument("--json", type=Path, help="write the metrics here")
    p.add_argument("--plot", type=Path, help="write the CED curve (PNG) here")
    p.add_argument("--shrink", type=float, default=0.0,
                   help="shrink the face boxes by this fraction (0.1 = 10%%) before cropping")
    p.add_argument("--boxes", choices=("landmarks", "detector"), default="landmarks",
                   help="face boxes: the ground truth's tight box (default), or the bundled "
                   "face detector's (= --detector)")
    p.add_argument("--detector", action="store_const", const="detector", dest="boxes",
                   help="end to end: crop with the bundled face detector's boxes, each matched "
                   "to an annotation (the detection whose box overlaps the landmarks' tight box "
                   "most, IoU >= --min-iou; none = a miss, listed, not scored), reported beside "
                   "the box-from-landmarks figure on the same faces")
    p.add_argument("--min-iou", type=positive_float, default=MIN_IOU,
                   help="--detector: the least IoU of a detection with the landmarks' box that "
                   f"counts as finding the face (default {MIN_IOU:g})")
    p.add_argument("--boxes-file", type=Path,
                   help="face boxes to crop with, 'NAME x0 y0 x1 y1' a line (0-based pixels; "
                   "faces not named there use their landmarks' tight box)")
    p.add_argument("--refine", action="store_true",
                   help="exported models: the runtime's second pass on the box of its own "
                   "first landmarks")
    add_decode_options(p)
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
    from ..decode_rules import rules_for
    from ..evaluate import infer_torch, is_exported, sweep_beyond_box
    from ..heads import head_of

    if is_exported(args.model[0]):
        print(f"gv-eval: --sweep-bbs runs a torch checkpoint once and decodes its vectors many "
              f"times: give a .pt or an alias, not {args.model[0]}", file=sys.stderr)
        return 2
    try:
        model, config, _ = load(args.model[0])
    except (FileNotFoundError, ValueError) as e:
        print(f"gv-eval: --sweep-bbs needs a GV checkpoint: {e}", file=sys.stderr)
        return 2
    if "beyond_box" not in head_of(config).rules_read:
        print("gv-eval: --sweep-bbs needs a GV model", file=sys.stderr)
        return 2
    o = infer_torch(model, config, samples, shrink=args.shrink, flip_test=args.flip_test)
    subpixel = rules_for(config, {"subpixel": args.subpixel}).subpixel  # None: the model's
    rows = sweep_beyond_box(o, samples, args.taus, args.sigmas, scheme, {"subpixel": subpixel})
    best = min(rows[1:], key=lambda r: r["nme_ion"])
    for r in rows:
        tag = "BBS off" if not r["beyond_box"] else f"tau {r['tau']:g} sigma {r['sigma']:g}"
        print(f"{tag:>20}: ION {100 * r['nme_ion']:.3f}%{'  <- best' if r is best else ''}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": args.model[0], "shrink": args.shrink,
                                         "subpixel": subpixel, "n": len(samples),
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
        print(f"{names[0]} - {other}: {format_difference(d)}; lower on "
              f"{d['a_lower']} vs {d['b_lower']} of {d['n']} images")
    return rows


def format_difference(d: dict) -> str:
    """'ION +0.031 points (95% CI -0.012 .. +0.075)': a `paired_difference` in points of %."""
    return (f"ION {100 * d['mean']:+.3f} points ({100 * d['level']:g}% CI "
            f"{100 * d['ci_low']:+.3f} .. {100 * d['ci_high']:+.3f})")


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
    if args.boxes == "detector" and not installed("tflite_runtime"):
        problem = need("--detector (the bundled face detector, a .tflite)", "ai_edge_litert")
        if problem:
            return problem
    return need("--plot", "matplotlib") if args.plot else None


def refused(args: argparse.Namespace) -> str | None:
    """One line when options exclude each other or a number is out of range, else None."""
    if not 0 <= args.shrink < 1:
        return f"--shrink must be in [0, 1), got {args.shrink}"
    if args.boxes != "detector":
        return None
    if args.min_iou > 1:
        return f"--min-iou must be at most 1, got {args.min_iou}"
    for flag, given in (("--boxes-file", args.boxes_file), ("--shrink", args.shrink),
                        ("--sweep-bbs", args.sweep_bbs)):
        if given:
            return (f"--detector crops with the detector's boxes: {flag} (for the landmarks' "
                    "boxes) does not go with it")
    return None


def detector_report(model: str, res: dict, samples: list, matches, args, scheme: str) -> dict:
    """--detector, one model: beside its end-to-end result `res` (the faces found), the
    box-from-landmarks result on the same faces, the paired difference of the two and the
    matching (rule, IoUs); printed, and returned to add to the JSON."""
    from ..evaluate import MATCH_RULE, evaluate, predict
    from ..metrics import paired_difference

    scored = [s for s, f in zip(samples, matches.found, strict=True) if f]
    ref, _ = predict(model, scored, rules=rule_changes(args), progress=sys.stderr.isatty(),
                     refine=args.refine, flip_test=args.flip_test)
    boxed = evaluate(ref, scored, scheme, args.threshold)
    diff = paired_difference(res["per_image_ion"], boxed["per_image_ion"])
    print(f"  box from landmarks, same {len(scored)} faces: "
          f"{format_summary(boxed, args.threshold)}")
    print(f"  end to end - box from landmarks: {format_difference(diff)}")
    return {"landmark_boxes": boxed, "end_to_end_minus_landmark_boxes": diff,
            "matching": {"rule": MATCH_RULE, "min_iou": args.min_iou, "annotated": len(samples),
                         "found": len(scored),
                         "iou": {s.name: v for s, v in zip(samples, matches.iou, strict=True)}}}


def read_faces(args: argparse.Namespace) -> tuple[list, object, str]:
    """(the annotated faces, with --boxes-file's boxes; what the reader skipped; the scheme's
    name). ValueError or FileNotFoundError: the line to print."""
    from ..data.readers import read_300w, read_name_list
    from ..schemes import get_scheme

    scheme = get_scheme(args.points).name
    names = read_name_list(args.names) if args.names else None
    samples, summary = read_300w(args.data, n_points=args.points, names=names)
    if not samples:
        raise ValueError(f"no annotated faces in {args.data} ({summary})")
    if args.boxes_file:
        from ..data.boxes import read_boxes, with_boxes

        samples, n_missing = with_boxes(samples, read_boxes(args.boxes_file))
        if n_missing:
            print(f"gv-eval: {n_missing} of {len(samples)} faces have no box in "
                  f"{args.boxes_file}: they use their landmarks' box", file=sys.stderr)
    return samples, summary, scheme


def score(model: str, args: argparse.Namespace, samples: list, summary, scheme: str,
          matches) -> dict:
    """One model's metrics on the faces (the detector's matches where given), with what it
    ran as; printed in one line. ValueError or FileNotFoundError: the line to print."""
    from ..decode_rules import rules_for
    from ..evaluate import evaluate, predict

    pred, config = predict(model, samples, shrink=args.shrink, rules=rule_changes(args),
                           progress=sys.stderr.isatty(), boxes=args.boxes,
                           refine=args.refine, flip_test=args.flip_test, matches=matches)
    rules = rules_for(config, rule_changes(args))
    found = np.ones(len(samples), bool) if matches is None else matches.found
    scored = [s for s, f in zip(samples, found, strict=True) if f]
    boxes_label = str(args.boxes_file) if args.boxes_file else args.boxes
    res = evaluate(pred[found], scored, scheme, args.threshold)
    res.update(model=str(model), data=str(args.data), shrink=args.shrink,
               boxes=boxes_label,
               refine=args.refine,
               flip_test=args.flip_test,
               missed=[s.name for s, f in zip(samples, found, strict=True) if not f],
               beyond_box=rules.beyond_box, subpixel=rules.subpixel,
               skipped=len(summary.skipped),
               head=config.head,
               tau=rules.tau,
               sigma=rules.sigma,
               names=[s.name for s in scored])
    print(f"{model}: {'end to end, ' if matches else ''}n={res['n']} "
          f"{format_summary(res, args.threshold)}  (shrink "
          f"{args.shrink:g}, BBS "
          f"{'on' if rules.beyond_box else 'off'}, {rules.subpixel}, boxes {boxes_label}"
          f"{', refined' if args.refine else ''}{', flip test' if args.flip_test else ''})")
    return res


def write_results(args: argparse.Namespace, results: dict[str, dict]) -> None:
    """The comparison of the models (printed), the JSON and the CED plot."""
    comparison = compare_first(results)
    if args.json:
        out = (next(iter(results.values())) if len(results) == 1
               else {"models": results, "comparison": comparison})
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    if args.plot:
        curves = {m: np.asarray(r["per_image_ion"]) for m, r in results.items()}
        plot_ced(curves, args.plot, args.threshold)


@one_line_errors("gv-eval")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    problem = missing_packages(args)
    if problem:
        print(f"gv-eval: error: {problem}", file=sys.stderr)
        return 2
    problem = refused(args) or prepare_outputs({"--json": args.json, "--plot": args.plot})
    if problem:
        print(f"gv-eval: {problem}", file=sys.stderr)
        return 2
    try:
        samples, summary, scheme = read_faces(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"gv-eval: {e}", file=sys.stderr)
        return 2
    if args.sweep_bbs:
        return sweep(args, samples, scheme)
    matches = None
    if args.boxes == "detector":  # once for every model: the detector does not depend on it
        from ..evaluate import match_detections

        matches = match_detections(samples, args.min_iou)
        if not matches.found.any():
            print(f"gv-eval: the detector found none of the {len(samples)} faces (IoU >= "
                  f"{args.min_iou:g} with the landmarks' box)", file=sys.stderr)
            return 1
    results = {}
    for model in args.model:
        try:
            res = results[str(model)] = score(model, args, samples, summary, scheme, matches)
        except (FileNotFoundError, ValueError) as e:
            print(f"gv-eval: {e}", file=sys.stderr)
            return 2
        if matches is not None:
            res.update(detector_report(model, res, samples, matches, args, scheme))
            missed = res["missed"]
            print(f"  the detector missed {len(missed)} of {len(samples)} faces (not scored)"
                  f"{': ' if missed else ''}{', '.join(missed[:20])}"
                  f"{' ... (all in --json)' if len(missed) > 20 else ''}")
    write_results(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
