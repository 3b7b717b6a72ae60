"""gv-infer: landmarks on images, folders and videos with an exported model, as a board runs it.

    gv-infer IMAGE_OR_DIR... [--model M] [--delegate LIB] [--json OUT] [--jsonl OUT] [--draw DIR]
    gv-infer --samples --draw out/          # the bundled sample faces, the shipped model

Faces come from the bundled BlazeFace detector unless `--box` gives one. The terminal gets one
summary line per file; the results, one record per image or video frame, go to `--json OUT` (one
document, at the end) and `--jsonl OUT` (one line per record, written as it is done), "-" for
stdout. `--draw DIR` writes PNGs with the landmarks drawn (red: placed outside the face box by
Beyond Box). A file that fails (unreadable, no face, box outside the image) is reported on stderr
and the others still run; the exit status is then 1. A model or delegate that cannot be used
stops everything with status 2. Ctrl-C stops with status 130, keeping the results done so far.
Imports no torch: it runs with numpy, OpenCV, the native decoder and one interpreter.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..console.argtypes import int_at_least, nonnegative_float
from ..console.extras import one_line_errors
from ..console.outputs import prepare_outputs
from ..runtime import DelegateSpec, FacePipeline, NoFaceError, RuntimeFailure
from .decode_options import add_decode_options, rule_changes
from .results import STDOUT, ResultWriter, face_summary

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gv-infer", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", type=Path, metavar="IMAGE_OR_DIR",
                   help="image files, video files, or folders of them")
    p.add_argument("--samples", action="store_true",
                   help=f"also run on the sample faces that ship with the package ({SAMPLES})")
    p.add_argument("--model", default=None,
                   help="exported .tflite/.onnx, or a shipped name: default (fp32 TFLite), "
                   "default-int8, default-onnx (default: %(default)s -> default)")
    p.add_argument("--delegate", metavar="LIB",
                   help="external TFLite delegate library (path), e.g. /usr/lib/libvx_delegate.so")
    p.add_argument("--delegate-option", action="append", default=[], metavar="KEY=VALUE",
                   help="option passed to the delegate (repeatable)")
    p.add_argument("--cpu-fallback", action="store_true",
                   help="run on the CPU when the delegate cannot be loaded, instead of failing")
    p.add_argument("--provider", action="append", metavar="EP",
                   help="ONNX Runtime execution provider (repeatable; default CPU)")
    p.add_argument("--threads", type=int_at_least(1), help="interpreter threads")
    p.add_argument("--kernels", choices=("default", "builtin", "reference"), default="default",
                   help="TFLite kernels: default (XNNPACK), builtin (no XNNPACK) or reference "
                   "(slow; for emulators such as qemu-user)")
    p.add_argument("--box", metavar="X0,Y0,X1,Y1",
                   help="use this face box (tight landmark box) instead of the detector")
    p.add_argument("--refine", action="store_true",
                   help="second pass on the box around the first landmarks (2x the invokes)")
    p.add_argument("--min-score", type=nonnegative_float, metavar="S",
                   help="lowest face score (mean landmark confidence) taken as a face: lower "
                   "ones are the detector's false alarms, or a --box with no readable face "
                   "(default: the model head's, docs/runtime.md; 0 keeps every result)")
    add_decode_options(p)
    p.add_argument("--json", metavar="OUT", help="write all results here as one JSON document "
                   "at the end (and on Ctrl-C, with what was done); - for stdout")
    p.add_argument("--jsonl", metavar="OUT", help="write each image's or frame's result here as "
                   "one JSON line the moment it is done (the first line: the model); - for stdout")
    p.add_argument("--draw", type=Path, metavar="DIR", help="write PNGs with landmarks drawn here")
    p.add_argument("--draw-max-side", type=int_at_least(0), default=DRAW_MAX_SIDE, metavar="N",
                   help="scale drawings down to at most N pixels on their longer side "
                   f"(default {DRAW_MAX_SIDE}; 0: full resolution)")
    p.add_argument("--every", type=int_at_least(1), default=1, metavar="N",
                   help="videos: process every N-th frame (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def expand(inputs: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files as given with folders replaced by the images and videos in them, sorted; the
    folders' other files, which are not run). Folders are not searched below their top level."""
    out: list[Path] = []
    other: list[Path] = []
    for p in inputs:
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
                    out.append(f)
                elif not f.is_dir():
                    other.append(f)
        else:
            out.append(p)
    return out, other


def nothing_to_run(other: list[Path]) -> str:
    """The error line when the inputs hold no image or video, naming what the folders held."""
    line = "no images or videos in the inputs (give files, folders or --samples)"
    if other:
        kinds = sorted({f.suffix.lower() or f.name for f in other})
        line += (f"; the folders hold {len(other)} other file(s) ({', '.join(kinds[:6])}), "
                 f"but gv-infer reads {' '.join(sorted(IMAGE_SUFFIXES))} images and "
                 f"{' '.join(sorted(VIDEO_SUFFIXES))} videos")
    return line


def video_frames(path: Path, every: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, RGB frame) of a video OpenCV can read; ValueError when it cannot open it."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"OpenCV cannot read the video {path}")
    try:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % every == 0:
                yield i, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()


#: Longest side of a --draw PNG unless --draw-max-side says otherwise: a phone photo drawn at
#: full size is a 10-20 MB PNG whose writing costs more than the landmarks.
DRAW_MAX_SIDE = 1280


def mark_sizes(face_side: float) -> tuple[int, int]:
    """(dot radius, box line width) in drawing pixels for a face box `face_side` pixels wide
    there: from the face, so 68 dots stay apart on a small face and visible on a large one."""
    return max(1, round(face_side / 90)), max(1, round(face_side / 150))


def draw(image: np.ndarray, faces: list, path: Path, max_side: int = DRAW_MAX_SIDE) -> None:
    """Write `image` as PNG with each face's box and landmarks drawn, scaled down so its longer
    side is at most `max_side` (0: full resolution)."""
    import cv2

    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    h, w = canvas.shape[:2]
    s = min(1.0, max_side / max(h, w)) if max_side else 1.0
    if s < 1.0:
        canvas = cv2.resize(canvas, (max(1, round(w * s)), max(1, round(h * s))),
                            interpolation=cv2.INTER_AREA)
    frac = 16  # cv2's `shift`: coordinates in 1/16 px, so scaled-down marks stay where they are

    def at(x: float, y: float) -> tuple[int, ...]:  # pixel centres scale about -0.5
        return tuple(round(((float(v) + 0.5) * s - 0.5) * frac) for v in (x, y))

    for f in faces:
        x0, y0, x1, y1 = (float(v) for v in f.box)
        r, t = mark_sizes(max(x1 - x0, y1 - y0) * s)
        cv2.rectangle(canvas, at(x0, y0), at(x1, y1), (255, 160, 0), t, cv2.LINE_AA, 4)
        for (x, y), out in zip(f.landmarks, f.outside_box, strict=True):
            colour = (0, 0, 255) if out else (0, 255, 0)
            cv2.circle(canvas, at(x, y), r * frac, colour, -1, cv2.LINE_AA, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), canvas):
        raise ValueError(f"cannot write {path}")


def parse_box(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    try:
        box = np.array([float(v) for v in text.split(",")])
    except ValueError:
        box = np.array([])
    if box.shape != (4,):
        raise argparse.ArgumentTypeError(f"--box wants X0,Y0,X1,Y1, got {text!r}")
    return box


class Runner:
    """Runs one face pipeline over the inputs. Each image's or frame's record goes to `results`
    as soon as it is done; failures go to stderr; `say` gets one summary line per file."""

    def __init__(self, lm: FacePipeline, box: np.ndarray | None, draw_dir: Path | None,
                 refine: bool = False, *, results: ResultWriter,
                 say: Callable[[str], None] | None = None,
                 draw_max_side: int = DRAW_MAX_SIDE) -> None:
        self.lm, self.box, self.draw_dir, self.refine = lm, box, draw_dir, refine
        self.results, self.say, self.draw_max_side = results, say, draw_max_side
        self.errors = 0

    def one(self, image: np.ndarray, record: dict, stem: str) -> None:
        faces = self.lm.detect(image, self.box, refine=self.refine)
        record["faces"] = [f.to_dict() for f in faces]
        record["timing_ms"] = {k: round(v, 3) for k, v in vars(self.lm.timing).items()
                               if isinstance(v, float)}
        if self.draw_dir is not None:
            draw(image, faces, self.draw_dir / f"{stem}.png", self.draw_max_side)

    def fail(self, record: dict, err: Exception, report: bool = True) -> None:
        self.errors += 1
        record["error"] = str(err)
        if report:
            self.warn(f"gv-infer: {record['file']}: {err}")

    @staticmethod
    def warn(line: str) -> None:
        """A line on stderr that does not tear the progress bar."""
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)

    def _say(self, line: str) -> None:
        if self.say is not None:
            self.say(line)

    def file(self, path: Path, every: int) -> None:
        from ..image import load_image

        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
            self.video(path, every)
            return
        rec = {"file": str(path)}
        try:
            self.one(load_image(path), rec, path.stem)
            self._say(f"{path}: {face_summary(rec['faces'], rec['timing_ms'])}")
        except (RuntimeFailure, ValueError, OSError) as e:
            self.fail(rec, e)
        self.results.add(rec)

    def video(self, path: Path, every: int) -> None:
        """Every `every`-th frame of a video, one record each. Frames without a face are normal
        in a video: they are recorded, and the video fails only when no frame had one. Errors
        are told once per message with their count, not once per frame."""
        frames, with_faces, problems = 0, 0, Counter()
        try:
            for i, frame in video_frames(path, every):
                frames += 1
                rec = {"file": str(path), "frame": i}
                try:
                    self.one(frame, rec, f"{path.stem}_{i:06d}")
                    with_faces += 1
                except NoFaceError as e:
                    rec["faces"], rec["error"] = [], str(e)
                except (RuntimeFailure, ValueError) as e:
                    self.fail(rec, e, report=False)
                    problems[str(e)] += 1
                self.results.add(rec)
        except ValueError as e:  # OpenCV cannot open it
            rec = {"file": str(path)}
            self.fail(rec, e)
            self.results.add(rec)
            return
        for message, n in problems.items():
            self.warn(f"gv-infer: {path}: {message} ({n} of {frames} frames)")
        step = f" (one in {every})" if every > 1 else ""
        if frames == 0:
            rec = {"file": str(path)}
            self.fail(rec, ValueError("OpenCV opened the video but read no frame from it"))
            self.results.add(rec)
        elif with_faces == 0 and not problems:
            self.fail({"file": str(path)}, NoFaceError(f"no face found in any of its {frames} "
                                                       f"frames{step}"))
        else:
            self._say(f"{path}: {frames} frames{step}, a face in {with_faces}")


@one_line_errors("gv-infer")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    files, other = expand([*args.inputs, *([SAMPLES] if args.samples else [])])
    if not files:
        print(f"gv-infer: error: {nothing_to_run(other)}", file=sys.stderr)
        return 2
    if args.json and args.jsonl and Path(args.json).resolve() == Path(args.jsonl).resolve():
        print(f"gv-infer: error: --json and --jsonl cannot both write to {args.json}",
              file=sys.stderr)
        return 2
    problem = prepare_outputs({o: p for o, p in (("--json", args.json), ("--jsonl", args.jsonl))
                               if str(p) != STDOUT}, {"--draw": args.draw})
    if problem:
        print(f"gv-infer: error: {problem}", file=sys.stderr)
        return 2
    try:
        box = parse_box(args.box)
        delegate = None
        if args.delegate:
            opts = dict(o.partition("=")[::2] for o in args.delegate_option)
            delegate = DelegateSpec(args.delegate, opts)
        lm = FacePipeline.from_file(args.model, delegate=delegate, threads=args.threads,
                                    cpu_fallback=args.cpu_fallback, providers=args.provider,
                                    kernels=args.kernels, rules=rule_changes(args),
                                    min_score=args.min_score)
    except (RuntimeFailure, ValueError, argparse.ArgumentTypeError) as e:
        print(f"gv-infer: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gv-infer: interrupted before any file was run", file=sys.stderr)
        return 130
    if lm.landmarker.backend.cpu_ops:
        ops = lm.landmarker.backend.cpu_ops
        print(f"gv-infer: note: {len(ops)} op(s) not taken by the delegate run on the CPU: "
              f"{', '.join(ops[:12])}{' ...' if len(ops) > 12 else ''}", file=sys.stderr)
    from tqdm import tqdm

    results = ResultWriter(lm.describe(), args.json, args.jsonl)
    say = None if results.uses_stdout else tqdm.write
    runner = Runner(lm, box, args.draw, args.refine, results=results, say=say,
                    draw_max_side=args.draw_max_side)
    done = 0
    try:
        for path in tqdm(files, desc="gv-infer", unit="file",
                         disable=args.no_progress or len(files) < 2):
            runner.file(path, args.every)
            done += 1
    except KeyboardInterrupt:
        results.close(interrupted=True)
        n = len(results.records)
        kept = (f"{n} result{'s' if n != 1 else ''} so far in {' and '.join(results.files)}"
                if results.files else "--jsonl FILE keeps results as they come")
        print(f"gv-infer: interrupted after {done} of {len(files)} files; {kept}",
              file=sys.stderr)
        return 130
    results.close()
    written = [*(f"results in {f}" for f in results.files),
               *([f"drawings in {args.draw}"] if args.draw else [])]
    if say is not None and written:
        say("; ".join(written))
    return 1 if runner.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
