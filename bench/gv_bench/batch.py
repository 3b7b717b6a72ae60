"""`gv-bench batch`: what a face costs when the faces of a frame go through the model together.

The landmark step of the runtime (`Landmarker`: crop + encode + invoke + decode + inverse
affine) on one real photo with N face boxes (the sample's face box, shifted a few pixels per
box so every crop differs), all N in one interpreter call and one native decoder call. Each
model and N has its own `Landmarker`, so the interpreter stays allocated at N (a TFLite file
traced at batch 1 is resized once, `TFLiteBackend.resize`); all of them run interleaved, run by
run, on the given threads (default 1). Reports medians (or minima, `--stat min`) per face, and
the ratio to one face, for the whole step and for the invoke alone (set the input, invoke,
fetch the output), plus what one resize of the TFLite interpreter from 1 to N faces costs (a
change of face count). `--flip-test` times each model a second time with the flip test (each
face and its mirror in the call: `gaussian_vector.flip_test`), interleaved with the plain one,
and reports what it costs against the plain step.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaussian_vector.console.argtypes import int_at_least
from gaussian_vector.console.outputs import prepare_outputs

#: shipped models timed by default: int8 and fp32 TFLite, fp32 ONNX
MODELS = "default-int8,default,default-onnx"
#: the issue's target (#19): per-face cost at 4 faces in one call <= 0.7x one face's
TARGET_FACES, TARGET_RATIO = 4, 0.7
#: statistics over the runs: the median (as every gv-bench table), and the minimum (the
#: uncontended cost, where other processes share the cores)
STATS = {"median": np.median, "min": np.min}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="per-face time of the landmark step with 1, 2, 4, 8 faces "
                       "in one call", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=MODELS, metavar="M[,M]",
                   help=f"exported files or shipped names (default {MODELS})")
    p.add_argument("--faces", type=faces_list, default=[1, 2, 4, 8], metavar="N[,N]",
                   help="faces per call (default 1,2,4,8; 1 is always timed: the ratios' base)")
    p.add_argument("--image", type=Path,
                   help="a photo with its 68 points beside it (NAME.pts, 300-W layout), whose "
                        "face the boxes frame (default: the packaged einstein.jpg)")
    p.add_argument("--runs", type=int_at_least(1), default=30,
                   help="interleaved runs (default 30)")
    p.add_argument("--warmup", type=int_at_least(0), default=3, help="untimed runs first "
                   "(default 3)")
    p.add_argument("--threads", type=int_at_least(1), default=1,
                   help="interpreter threads (default 1)")
    p.add_argument("--stat", choices=list(STATS), default="median",
                   help="the table's statistic over the runs: median (default) or min (the "
                        "uncontended cost on a shared machine); the JSON has both")
    p.add_argument("--flip-test", action="store_true",
                   help="also time each model with the flip test (rows '... +flip'), "
                   "interleaved with the plain step")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    p.set_defaults(run=run)


def faces_list(text: str) -> list[int]:
    """--faces: distinct counts between 1 and the runtime's one-call limit, 1 included."""
    from gaussian_vector.runtime.landmarker import MAX_BATCH

    items = [v.strip() for v in text.split(",")]
    if all(v.isdigit() and 1 <= int(v) <= MAX_BATCH for v in items) and len(
            {int(v) for v in items}) == len(items):
        return sorted({1, *map(int, items)})
    raise argparse.ArgumentTypeError(
        f"takes distinct face counts from 1 to {MAX_BATCH} like 1,2,4,8, got {text!r}")


def face_box(image_path: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(RGB image, its face box: the tight box of NAME.pts beside the photo, a name);
    ValueError with one line when either is missing."""
    import gaussian_vector
    from gaussian_vector import affine
    from gaussian_vector.data.readers import read_pts
    from gaussian_vector.image import load_image

    if image_path is None:
        image_path = Path(gaussian_vector.__file__).parent / "samples" / "einstein.jpg"
    pts = image_path.with_suffix(".pts")
    for need in (image_path, pts):
        if not need.is_file():
            raise ValueError(f"--image {image_path}: {need.name} not found (a photo with its "
                             "68 points beside it as NAME.pts)")
    return load_image(image_path), affine.box_from_landmarks(read_pts(pts)), image_path.name


def boxes_for(box: np.ndarray, n: int) -> np.ndarray:
    """`n` boxes: `box` shifted by up to 4 px in x and y, a different shift for each face."""
    step = 0.02 * float(box[2] - box[0])
    shifts = [((i % 3) - 1, (i // 3) % 3 - 1) for i in range(n)]
    return np.array([box + step * np.array([dx, dy, dx, dy]) for dx, dy in shifts])


@dataclass
class Timed:
    """One model at one face count: its Landmarker, its boxes and the samples (ms a call)."""

    landmarker: object
    boxes: list[np.ndarray]
    samples: dict[str, list[float]] = field(default_factory=dict)

    def once(self, image: np.ndarray) -> dict[str, float]:
        """Time one landmark step on `image`: the whole call and its parts (ms)."""
        lm = self.landmarker
        t0 = time.perf_counter()
        lm.faces(image, self.boxes)
        step = (time.perf_counter() - t0) * 1e3
        t = lm.timing
        return {"step": step, "invoke": t.invoke, "preprocess": t.preprocess, "decode": t.decode}


#: what a flip-test row's label ends in
FLIP = " +flip"


def label(lm) -> str:
    """'tflite-int8', 'tflite-fp32', 'onnx-fp32': the format and the input's precision
    ('... +flip' with the flip test)."""
    from gaussian_vector.modelfile.reader import model_format

    precision = "fp32" if lm.backend.input.dtype.kind == "f" else "int8"
    return f"{model_format(lm.path)}-{precision}{FLIP if lm.flip_test else ''}"


def resize_ms(lm, n: int, repeat: int = 5) -> float | None:
    """Median ms of one interpreter resize from 1 to `n` faces (TFLite); None where the batch
    axis is dynamic (ONNX Runtime: nothing to resize) or the file cannot be resized."""
    backend = lm.backend
    if backend.input.dynamic_batch or n == 1:
        return None
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ok = backend.resize(n)
        times.append((time.perf_counter() - t0) * 1e3)
        backend.resize(1)
        if not ok:
            return None
    return float(np.median(times))


def measure(models: list[str], counts: list[int], image: np.ndarray, box: np.ndarray,
            runs: int, warmup: int, threads: int, flip_test: bool = False) -> dict:
    """Figures per model (and flip test, where asked) and face count (medians, ms), all
    interleaved run by run."""
    from gaussian_vector.runtime import Landmarker

    timed: dict[tuple[tuple[str, bool], int], Timed] = {}
    labels: dict[tuple[str, bool], str] = {}
    variants = [(m, flip) for m in models for flip in ((False, True) if flip_test else (False,))]
    for v in variants:
        for n in counts:
            lm = Landmarker.from_file(v[0], threads=threads, flip_test=v[1])
            labels[v] = label(lm)
            checked = lm.check_boxes(boxes_for(box, n), *image.shape[:2])
            timed[v, n] = Timed(lm, checked)
    taken = [labels[v] for v in variants]
    for v in variants:  # two models of one format and precision: their names tell them apart
        if taken.count(labels[v]) > 1:
            labels[v] = f"{Path(v[0]).name} {labels[v]}"
    for r in range(warmup + runs):
        for t in timed.values():
            sample = t.once(image)
            if r >= warmup:
                for key, value in sample.items():
                    t.samples.setdefault(key, []).append(value)
    out: dict = {}
    for v in variants:
        rows = {}
        for n in counts:
            t = timed[v, n]
            rows[str(n)] = {
                **{stat: figures(t.samples, timed[v, 1].samples, n, how)
                   for stat, how in STATS.items()},
                "calls": "one" if t.landmarker.backend.resize(n) else "one per face",
                "resize_ms": resize_ms(timed[v, 1].landmarker, n),
            }
            if v[1]:  # the flip test against the same model's plain step, same faces
                plain = timed[(v[0], False), n].samples["step"]
                for stat, how in STATS.items():
                    rows[str(n)][stat]["flip_ratio"] = float(how(t.samples["step"])
                                                             / how(plain))
        out[labels[v]] = {"model": str(timed[v, 1].landmarker.path), "faces": rows}
    return out


def figures(samples: dict[str, list[float]], one_face: dict[str, list[float]], n: int,
            how) -> dict[str, float]:
    """ms a call and a face of each key, and the per-face ratios to one face, by `how`."""
    got = {k: float(how(v)) for k, v in samples.items()}
    base = {k: float(how(v)) for k, v in one_face.items()}
    return {**{f"{k}_ms": v for k, v in got.items()},
            **{f"{k}_ms_per_face": v / n for k, v in got.items()},
            "step_ratio": got["step"] / n / base["step"],
            "invoke_ratio": got["invoke"] / n / base["invoke"]}


def report(result: dict, counts: list[int], stat: str) -> list[str]:
    """The table: per model and face count, ms per face (by `stat`) and the ratio to one
    face."""
    lines = [f"{'model':<12} {'faces':>5} {'step ms/face':>12} {'x 1 face':>8} "
             f"{'invoke ms/face':>14} {'x 1 face':>8} {'crop+encode':>11} {'decode':>7} "
             f"{'resize ms':>9}"]
    for name, m in result["models"].items():
        for n in counts:
            row = m["faces"][str(n)]
            r = row[stat]
            resize = "-" if row["resize_ms"] is None else f"{row['resize_ms']:.2f}"
            lines.append(
                f"{name:<12} {n:>5} {r['step_ms_per_face']:>12.3f} {r['step_ratio']:>8.2f} "
                f"{r['invoke_ms_per_face']:>14.3f} {r['invoke_ratio']:>8.2f} "
                f"{r['preprocess_ms_per_face']:>11.3f} {r['decode_ms_per_face']:>7.3f} "
                f"{resize:>9}" + ("" if row["calls"] == "one" else "  (one call per face)"))
    if TARGET_FACES in counts:
        got = ", ".join(f"{name} {m['faces'][str(TARGET_FACES)][stat]['step_ratio']:.2f}x"
                        for name, m in result["models"].items())
        lines.append(f"target: per face at {TARGET_FACES} faces <= {TARGET_RATIO}x one face's; "
                     f"measured ({stat}) {got}")
    for name, m in result["models"].items():
        if name.endswith(FLIP):
            got = ", ".join(f"{n} face(s) {m['faces'][str(n)][stat]['flip_ratio']:.2f}x"
                            for n in counts)
            lines.append(f"flip test: {name[:-len(FLIP)]} takes {got} its plain step")
    return lines


def run(args: argparse.Namespace) -> int:
    from gaussian_vector.modelfile.errors import ModelError

    problem = prepare_outputs({"--json": args.json})
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if problem or not models:
        print(f"gv-bench batch: error: {problem or '--models names no model'}", file=sys.stderr)
        return 2
    try:
        image, box, name = face_box(args.image)
        figures = measure(models, args.faces, image, box, args.runs, args.warmup, args.threads,
                          args.flip_test)
    except (ValueError, OSError, ModelError) as e:
        print(f"gv-bench batch: error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    result = {"image": name, "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
              "flip_test": args.flip_test, "models": figures}
    print(f"gv-bench batch: the landmark step with N faces in one call, on {name}, "
          f"{args.threads} thread(s), {args.runs} interleaved runs; {args.stat} of the runs")
    for line in report(result, args.faces, args.stat):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")
    return 0
