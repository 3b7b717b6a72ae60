"""Peer comparison: dlib's HOG face detector + its 68-point shape predictor against our
end-to-end figures (`gv-eval --detector --json`), on the same photos, by the same metric and the
same matching rule, with a paired bootstrap interval of (ours - dlib) over the faces both found.

Optional, not a dependency, not in CI. Run it with a Python that has dlib, numpy and
opencv-python-headless (its own venv: docs/peers.md); this package is imported from the
checkout's python/ folder (it needs numpy and OpenCV only here):

    /work/dlib-venv/bin/python bench/dlib_peer.py --data DIR [--names FILE] --ours OURS.json
        [--predictor shape_predictor_68_face_landmarks.dat] [--upsample 1] [--json OUT]

dlib's model file is research-only (trained on iBUG 300-W): see docs/peers.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gaussian_vector  # noqa: F401  (installed in this Python)
except ImportError:  # run from the checkout with a Python that only has dlib, numpy, OpenCV
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from gaussian_vector.data.readers import Sample, read_300w, read_name_list  # noqa: E402
from gaussian_vector.evaluate import MATCH_RULE, match_face  # noqa: E402
from gaussian_vector.metrics import format_summary, paired_difference, summarise  # noqa: E402

#: Where Debian's libdlib-data puts the model (`dpkg -L libdlib-data`).
DEBIAN_PREDICTOR = Path("/usr/share/dlib/shape_predictor_68_face_landmarks.dat")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlib_peer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="300-W-layout folder (recursive)")
    p.add_argument("--names", type=Path, help="file of names to keep (e.g. helen/val.txt)")
    p.add_argument("--ours", type=Path, required=True,
                   help="our per-face figures: the --json of `gv-eval --model M --detector` on "
                   "the same --data/--names")
    p.add_argument("--predictor", type=Path, default=DEBIAN_PREDICTOR,
                   help=f"dlib's 68-point model (default {DEBIAN_PREDICTOR}, from libdlib-data)")
    p.add_argument("--upsample", type=int, default=1,
                   help="times dlib's HOG detector upsamples the image first (default 1: dlib's "
                   "own examples; finds faces down to about 40 px)")
    p.add_argument("--min-iou", type=float, default=None,
                   help="matching threshold (default: the one our JSON was made with)")
    p.add_argument("--json", type=Path, help="write the comparison here")
    return p


def read_ours(path: Path) -> dict:
    """Our end-to-end result from `gv-eval --detector --json`: per-face ION over the faces found
    (`names`, `per_image_ion`), `missed`, `matching`. ValueError in one line for anything else."""
    try:
        res = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"--ours {path}: not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"--ours {path}: not a JSON file ({e})") from None
    if not isinstance(res, dict) or "models" in res:
        raise ValueError(f"--ours {path}: give the JSON of one model (gv-eval with one --model)")
    if res.get("boxes") != "detector" or "matching" not in res:
        raise ValueError(f"--ours {path}: not an end-to-end result; make it with "
                         "`gv-eval --model M --detector --json OUT`")
    if "fr_0.1" not in res:
        raise ValueError(f"--ours {path}: made with another --threshold; this compares at 0.1")
    return res


def run_dlib(samples: list[Sample], predictor: Path, upsample: int,
             min_iou: float) -> tuple[np.ndarray, list[float], float]:
    """dlib's landmarks (N, 68, 2) for each face, NaN rows where its HOG detector has no box
    matched to the face (our `match_face` rule, on dlib's own boxes), each face's best IoU, and
    the milliseconds per photo (reading it, the detector, the predictor)."""
    import dlib

    from gaussian_vector.image import load_image

    detector = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(str(predictor))
    out = np.full((len(samples), 68, 2), np.nan)
    overlaps = []
    start = time.perf_counter()
    for i, s in enumerate(samples):
        rgb = np.ascontiguousarray(load_image(s.image))
        rects = detector(rgb, upsample)
        boxes = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], np.float64)
        box, best = match_face(s.points, boxes, min_iou)
        overlaps.append(best)
        if box is not None:
            found = shape(rgb, dlib.rectangle(*(int(v) for v in box)))
            out[i] = [(p.x, p.y) for p in found.parts()]
    ms = 1000 * (time.perf_counter() - start) / max(len(samples), 1)
    return out, overlaps, ms


def compare(samples: list[Sample], ours: dict, dlib_pred: np.ndarray, dlib_iou: list[float],
            min_iou: float) -> dict:
    """Both end to end on the same annotated faces: each one's figures over the faces it found,
    its misses, and (ours - dlib) per-face ION over the faces both found (paired bootstrap)."""
    names = [s.name for s in samples]
    theirs = set(ours["names"]) | set(ours["missed"])
    if theirs != set(names):
        raise ValueError(f"--ours covers other faces ({len(theirs)}) than --data/--names "
                         f"({len(names)}): run gv-eval on the same folder and name list")
    if ours["matching"]["min_iou"] != min_iou:
        raise ValueError(f"--ours matched at IoU >= {ours['matching']['min_iou']}, dlib at "
                         f"{min_iou}: use one threshold")
    found = ~np.isnan(dlib_pred).any(axis=(1, 2))
    if not found.any():
        raise ValueError(f"dlib found none of the {len(samples)} faces")
    gt = np.stack([s.points for s in samples])
    dlib_res = summarise(dlib_pred[found], gt[found])
    dlib_ion = dict(zip([n for n, f in zip(names, found, strict=True) if f],
                        dlib_res.pop("per_image_ion"), strict=True))
    our_ion = dict(zip(ours["names"], ours["per_image_ion"], strict=True))
    both = [n for n in names if n in our_ion and n in dlib_ion]
    offset = (dlib_pred[found] - gt[found]).mean(axis=(0, 1))
    out = {
        "annotated": len(samples), "rule": MATCH_RULE, "min_iou": min_iou,
        "ours": {"model": ours.get("model"), "found": len(our_ion), "missed": ours["missed"],
                 **{k: ours[k] for k in ("nme_ion", "nme_ipn", "fr_0.1", "auc_0.1")}},
        "dlib": {"found": int(found.sum()),
                 "missed": [n for n, f in zip(names, found, strict=True) if not f],
                 **{k: v for k, v in dlib_res.items() if k != "per_landmark_ion"},
                 "mean_offset_px": offset.tolist(),
                 "iou": dict(zip(names, dlib_iou, strict=True)),
                 "per_image_ion": [dlib_ion.get(n) for n in names]},
        "both_found": {"n": len(both)},
    }
    if both:
        a, b = [our_ion[n] for n in both], [dlib_ion[n] for n in both]
        out["both_found"].update(ours_nme_ion=float(np.mean(a)), dlib_nme_ion=float(np.mean(b)),
                                 ours_minus_dlib=paired_difference(a, b))
    return out


def report(res: dict) -> None:
    """The comparison on the terminal, errors in % (the JSON keeps fractions)."""
    n = res["annotated"]
    print(f"{n} annotated faces; a face is found when {res['rule']} (min_iou "
          f"{res['min_iou']:g})")
    for who, r in (("ours", res["ours"]), ("dlib", res["dlib"])):
        print(f"  {who}: found {r['found']}, missed {len(r['missed'])}; over its faces found: "
              f"{format_summary(r)}")
        if r["missed"]:
            print(f"    missed: {', '.join(r['missed'][:20])}"
                  f"{' ...' if len(r['missed']) > 20 else ''}")
    both = res["both_found"]
    if both["n"]:
        d = both["ours_minus_dlib"]
        print(f"  both found {both['n']}: ours ION {100 * both['ours_nme_ion']:.2f}%, dlib "
              f"{100 * both['dlib_nme_ion']:.2f}%; ours - dlib {100 * d['mean']:+.3f} points "
              f"(95% CI {100 * d['ci_low']:+.3f} .. {100 * d['ci_high']:+.3f}), ours lower on "
              f"{d['a_lower']} of {d['n']}")
    dx, dy = res["dlib"]["mean_offset_px"]
    print(f"  dlib's mean signed offset from the annotations: dx {dx:+.2f} px, dy {dy:+.2f} px")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import dlib  # noqa: F401
    except ImportError:
        print("dlib_peer: needs dlib (not installed in this Python): pip install dlib in a venv "
              "of its own, see docs/peers.md", file=sys.stderr)
        return 2
    if not args.predictor.is_file():
        print(f"dlib_peer: dlib's model {args.predictor} not found: apt-get install "
              "libdlib-data, or give --predictor", file=sys.stderr)
        return 2
    if args.upsample < 0:
        print(f"dlib_peer: --upsample must be >= 0, got {args.upsample}", file=sys.stderr)
        return 2
    try:
        ours = read_ours(args.ours)
        min_iou = ours["matching"]["min_iou"] if args.min_iou is None else args.min_iou
        if not 0 < min_iou <= 1:
            raise ValueError(f"--min-iou must be in (0, 1], got {min_iou}")
        names = read_name_list(args.names) if args.names else None
        samples, summary = read_300w(args.data, names=names)
        if not samples:
            raise ValueError(f"no annotated faces in {args.data} ({summary})")
        pred, overlaps, ms = run_dlib(samples, args.predictor, args.upsample, min_iou)
        res = compare(samples, ours, pred, overlaps, min_iou)
    except (FileNotFoundError, ValueError) as e:
        print(f"dlib_peer: {e}", file=sys.stderr)
        return 2
    res.update(data=str(args.data), names=str(args.names) if args.names else None,
               predictor=str(args.predictor), upsample=args.upsample, dlib_ms_per_photo=ms)
    report(res)
    print(f"  dlib: {ms:.0f} ms a photo (reading, HOG detector, predictor; one thread)")
    if args.json:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(res, indent=1))
        except OSError as e:
            print(f"dlib_peer: --json {args.json}: {e.strerror or e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
