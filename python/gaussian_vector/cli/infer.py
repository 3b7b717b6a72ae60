"""gv-infer: landmarks on images, folders and videos with an exported model, as a board runs it.

    gv-infer IMAGE_OR_DIR... [--model M] [--delegate LIB] [--json OUT] [--jsonl OUT] [--draw DIR]
    gv-infer --samples --draw out/          # the bundled sample faces, the shipped model
    gv-infer VIDEO --track --draw out/      # follow the faces through a video: out/VIDEO.mp4
    gv-infer 0 --track                      # camera 0 (/dev/video0), until Ctrl-C

Faces come from the bundled BlazeFace detector unless `--box` gives one. The terminal gets one
summary line per file; the results, one record per image or video frame, go to `--json OUT` (one
document, at the end) and `--jsonl OUT` (one line per record, written as it is done), "-" for
stdout. `--draw DIR` writes PNGs with the landmarks drawn (red: placed outside the face box by
Beyond Box); for a video or a camera it writes one video, DIR/NAME.mp4. `--track` follows the faces
of a video from frame to frame (the detector runs only when a face is lost or the shot changes),
gives each face an id, and smooths its landmarks with a One-Euro filter (docs/runtime.md,
"Video"). A file that fails (unreadable, no face, box outside the image) is reported on stderr
and the others still run; the exit status is then 1. A model or delegate that cannot be used
stops everything with status 2. Ctrl-C stops with status 130, keeping the results done so far.
Imports no torch: it runs with numpy, OpenCV, the native decoder and one interpreter.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from ..console.argtypes import int_at_least, nonnegative_float, positive_float
from ..console.extras import one_line_errors
from ..console.outputs import prepare_outputs
from ..modelfile.shipped import SHIPPED
from ..runtime import DelegateSpec, FacePipeline, NoFaceError, RuntimeFailure
from ..runtime.smoothing import OneEuro
from ..runtime.tracking import DEFAULT_SMOOTHING, FaceTracker
from ..video.io import DEFAULT_FPS, VideoSink, camera_index, open_frames
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
                   help="image files, video files, folders of them, or a camera index (0: "
                   "/dev/video0)")
    p.add_argument("--samples", action="store_true",
                   help=f"also run on the sample faces that ship with the package ({SAMPLES})")
    p.add_argument("--model", default=None,
                   help="exported .tflite/.onnx, or a shipped name: "
                   f"{', '.join(SHIPPED)} (default: %(default)s -> default, the 256 px fp32 "
                   "TFLite; fast: the 192 px model)")
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
                   "(default: the model's own floor, else its head's, docs/runtime.md; 0 keeps "
                   "every result)")
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
    add_tracking_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def add_tracking_options(p: argparse.ArgumentParser) -> None:
    """--track and its options (videos and cameras)."""
    g = p.add_argument_group("video tracking (docs/runtime.md, \"Video\")")
    g.add_argument("--track", action="store_true",
                   help="videos and cameras: follow each face from frame to frame; the detector "
                   "runs on the first frame and when a face is lost. Faces get ids")
    g.add_argument("--redetect-every", type=int_at_least(0), default=0, metavar="N",
                   help="with --track: also run the detector every N frames, to find faces "
                   "that enter later (default 0: only when a face is lost)")
    g.add_argument("--no-smooth", action="store_true",
                   help="with --track: raw landmarks, no One-Euro smoothing")
    g.add_argument("--smooth-min-cutoff", type=positive_float, metavar="HZ",
                   default=DEFAULT_SMOOTHING.min_cutoff,
                   help="One-Euro cutoff at rest, Hz: lower is smoother and lags more "
                   "(default %(default)s)")
    g.add_argument("--smooth-beta", type=nonnegative_float, metavar="B",
                   default=DEFAULT_SMOOTHING.beta,
                   help="One-Euro speed coefficient, per face size a second: higher follows "
                   "fast motion with less lag (default %(default)s)")


def tracker_for(pipeline: FacePipeline, args: argparse.Namespace,
                fps: float | None) -> FaceTracker | None:
    """The tracker `--track` and its options ask for, at the video's frame rate; None without
    --track."""
    if not args.track:
        return None
    smoothing = None if args.no_smooth else OneEuro(args.smooth_min_cutoff, args.smooth_beta)
    return FaceTracker(pipeline, smoothing=smoothing, redetect_every=args.redetect_every,
                       fps=fps or DEFAULT_FPS)


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


#: Longest side of a --draw PNG unless --draw-max-side says otherwise: a phone photo drawn at
#: full size is a 10-20 MB PNG whose writing costs more than the landmarks.
DRAW_MAX_SIDE = 1280


def mark_sizes(face_side: float) -> tuple[int, int]:
    """(dot radius, box line width) in drawing pixels for a face box `face_side` pixels wide
    there: from the face, so 68 dots stay apart on a small face and visible on a large one."""
    return max(1, round(face_side / 90)), max(1, round(face_side / 150))


def render(image: np.ndarray, faces: list, max_side: int = DRAW_MAX_SIDE,
           ids: list[int] | None = None) -> np.ndarray:
    """`image` (RGB) as a BGR canvas with each face's box and landmarks drawn (and its track id
    where `ids` gives one), scaled down so its longer side is at most `max_side` (0: full
    resolution)."""
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

    for i, f in enumerate(faces):
        x0, y0, x1, y1 = (float(v) for v in f.box)
        r, t = mark_sizes(max(x1 - x0, y1 - y0) * s)
        cv2.rectangle(canvas, at(x0, y0), at(x1, y1), (255, 160, 0), t, cv2.LINE_AA, 4)
        for (x, y), out in zip(f.landmarks, f.outside_box, strict=True):
            colour = (0, 0, 255) if out else (0, 255, 0)
            cv2.circle(canvas, at(x, y), r * frac, colour, -1, cv2.LINE_AA, 4)
        if ids is not None:
            corner = (round(x0 * s), max(12, round(y0 * s) - 4))
            cv2.putText(canvas, f"#{ids[i]}", corner, cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        (255, 160, 0), 1, cv2.LINE_AA)
    return canvas


def draw(image: np.ndarray, faces: list, path: Path, max_side: int = DRAW_MAX_SIDE) -> None:
    """Write `image` as PNG with each face's box and landmarks drawn (`render`)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), render(image, faces, max_side)):
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
                 draw_max_side: int = DRAW_MAX_SIDE,
                 tracker: Callable[[float | None], FaceTracker | None] | None = None) -> None:
        """`tracker`: frame rate -> the tracker a video runs through (None: detect every
        frame)."""
        self.lm, self.box, self.draw_dir, self.refine = lm, box, draw_dir, refine
        self.results, self.say, self.draw_max_side = results, say, draw_max_side
        self.make_tracker = tracker or (lambda fps: None)
        self.errors = 0

    def one(self, image: np.ndarray, record: dict, stem: str) -> None:
        faces = self.detect(image, record)
        if self.draw_dir is not None:
            draw(image, faces, self.draw_dir / f"{stem}.png", self.draw_max_side)

    def detect(self, image: np.ndarray, record: dict) -> list:
        """The image's faces, their record and timing in `record`."""
        faces = self.lm.detect(image, self.box, refine=self.refine)
        record["faces"] = [f.to_dict() for f in faces]
        record["timing_ms"] = timing_record(self.lm.timing)
        return faces

    def track(self, tracker: FaceTracker, frame: np.ndarray, t: float | None,
              record: dict) -> tuple[list, list[int]]:
        """The frame's tracked faces and their ids, their record in `record`."""
        tracked = tracker.update(frame, t)
        record["faces"] = [f.to_dict() for f in tracked]
        record["timing_ms"] = timing_record(tracker.timing)
        record["detector_ran"] = bool(tracker.timing.extra.get("detector_ran"))
        return [f.face for f in tracked], [f.id for f in tracked]

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

        if is_video(path):
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
        """Every `every`-th frame of a video or camera, one record each (tracked with --track;
        drawn into one video with --draw). Frames without a face are normal in a video: they
        are recorded, and the video fails only when no frame had one. Errors are told once per
        message with their count, not once per frame."""
        try:
            source = open_frames(path, every)
            sink = self._sink(path, source)
        except (ValueError, OSError) as e:  # OpenCV cannot open it, or the drawing
            rec = {"file": str(path)}
            self.fail(rec, e)
            self.results.add(rec)
            return
        tracker = self.make_tracker(source.fps / every if source.fps else None)
        frames, with_faces, problems = 0, 0, Counter()
        with source, sink or nullcontext():
            for i, frame in source:
                frames += 1
                rec = {"file": str(path), "frame": i}
                faces, ids = self._frame(frame, rec, tracker, i / source.fps if source.fps
                                         else None, problems)
                with_faces += bool(faces)
                if sink is not None:
                    canvas = render(frame, faces, self.draw_max_side, ids)
                    sink.write(canvas[:, :, ::-1])
                self.results.add(rec)
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
            drawn = f"; drawn into {sink.path}" if sink is not None else ""
            self._say(f"{path}: {frames} frames{step}, a face in {with_faces}{drawn}")

    def _frame(self, frame: np.ndarray, rec: dict, tracker: FaceTracker | None,
               t: float | None, problems: Counter) -> tuple[list, list[int] | None]:
        """One frame's faces (and ids when tracked), recorded in `rec`; a failure is counted in
        `problems` and gives no faces."""
        try:
            if tracker is not None:
                return self.track(tracker, frame, t, rec)
            return self.detect(frame, rec), None
        except NoFaceError as e:
            rec["faces"], rec["error"] = [], str(e)
        except (RuntimeFailure, ValueError) as e:
            self.fail(rec, e, report=False)
            problems[str(e)] += 1
        return [], None

    def _sink(self, path: Path, source: object) -> VideoSink | None:
        """The video --draw writes for a video or camera: DIR/NAME.mp4."""
        if self.draw_dir is None:
            return None
        index = camera_index(path)
        name = f"camera{index}" if index is not None else path.stem
        fps = source.fps / source.every if source.fps else None
        self.draw_dir.mkdir(parents=True, exist_ok=True)
        return VideoSink(self.draw_dir / f"{name}.mp4", fps=fps)


def is_video(path: Path) -> bool:
    """Whether an input is a video file or a camera index."""
    return (path.suffix.lower() in VIDEO_SUFFIXES and path.is_file()) or \
        camera_index(path) is not None


def timing_record(timing: object) -> dict:
    """The float fields of a Timing, rounded: a record's "timing_ms"."""
    return {k: round(v, 3) for k, v in vars(timing).items() if isinstance(v, float)}


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
                                    min_score=args.min_score, flip_test=args.flip_test)
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
    if args.track and not any(is_video(f) for f in files):
        print("gv-infer: note: --track follows faces through videos and cameras; the images "
              "given run one by one", file=sys.stderr)
    from tqdm import tqdm

    results = ResultWriter(lm.describe(), args.json, args.jsonl)
    say = None if results.uses_stdout else tqdm.write
    runner = Runner(lm, box, args.draw, args.refine, results=results, say=say,
                    draw_max_side=args.draw_max_side,
                    tracker=lambda fps: tracker_for(lm, args, fps))
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
