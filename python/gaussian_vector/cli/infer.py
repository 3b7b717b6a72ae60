"""gv-infer: landmarks on images, folders and videos with an exported model, as a board runs it.

    gv-infer IMAGE_OR_DIR... [--model M] [--delegate LIB] [--json OUT] [--draw DIR]
    gv-infer --samples --draw out/          # the bundled sample faces, the shipped model

Faces come from the bundled BlazeFace detector unless `--box` gives one. Results are JSON (to
stdout, or `--json OUT`), one record per image or video frame; `--draw DIR` writes PNGs with the
landmarks drawn (red: placed outside the face box by Beyond Box). A file that fails (unreadable,
no face, box outside the image) is reported on stderr and the others still run; the exit status
is then 1. A model or delegate that cannot be used stops everything with status 2.
Imports no torch: it runs with numpy, OpenCV, the native decoder and one interpreter.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..decode import SUBPIXEL_MODES
from ..runtime import DelegateSpec, Landmarker, RuntimeFailure
from .argtypes import int_at_least, nonnegative_float
from .extras import reports_missing_modules
from .outputs import prepare_outputs

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
    p.add_argument("--subpixel", choices=SUBPIXEL_MODES, default="quarter",
                   help="decoder's sub-pixel rule: the paper's quarter-pixel shift (default) or "
                   "the parabola vertex (about 2%% lower error, docs/decoding.md)")
    p.add_argument("--min-score", type=nonnegative_float, metavar="S",
                   help="lowest face score (mean landmark confidence) taken as a face: lower "
                   "ones are the detector's false alarms, or a --box with no readable face "
                   "(default: the model head's, docs/runtime.md; 0 keeps every result)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the results here (else stdout)")
    p.add_argument("--draw", type=Path, metavar="DIR", help="write PNGs with landmarks drawn here")
    p.add_argument("--every", type=int_at_least(1), default=1, metavar="N",
                   help="videos: process every N-th frame (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def expand(inputs: list[Path]) -> list[Path]:
    """Files as given, folders replaced by the images and videos in them (sorted)."""
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir()
                              if f.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES))
        else:
            out.append(p)
    return out


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


def draw(image: np.ndarray, faces: list, path: Path) -> None:
    """Write `image` as PNG with each face's box and landmarks drawn."""
    import cv2

    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    scale = max(image.shape[:2]) / 512
    r, t = max(1, round(2 * scale)), max(1, round(scale))
    for f in faces:
        x0, y0, x1, y1 = (round(float(v)) for v in f.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (255, 160, 0), t)
        for (x, y), out in zip(f.landmarks, f.outside_box, strict=True):
            colour = (0, 0, 255) if out else (0, 255, 0)
            cv2.circle(canvas, (round(float(x)), round(float(y))), r, colour, -1, cv2.LINE_AA)
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
    """Runs one landmarker over the inputs, collecting records and errors."""

    def __init__(self, lm: Landmarker, box: np.ndarray | None, draw_dir: Path | None,
                 refine: bool = False) -> None:
        self.lm, self.box, self.draw_dir, self.refine = lm, box, draw_dir, refine
        self.records: list[dict] = []
        self.errors = 0

    def one(self, image: np.ndarray, record: dict, stem: str) -> None:
        faces = self.lm.detect(image, self.box, refine=self.refine)
        record["faces"] = [f.to_dict() for f in faces]
        record["timing_ms"] = {k: round(v, 3) for k, v in vars(self.lm.timing).items()
                               if isinstance(v, float)}
        if self.draw_dir is not None:
            draw(image, faces, self.draw_dir / f"{stem}.png")

    def fail(self, record: dict, err: Exception) -> None:
        self.errors += 1
        record["error"] = str(err)
        print(f"gv-infer: {record['file']}: {err}", file=sys.stderr)

    def file(self, path: Path, every: int) -> None:
        from ..image import load_image

        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
            try:
                frames = video_frames(path, every)
                for i, frame in frames:
                    rec = {"file": str(path), "frame": i}
                    try:
                        self.one(frame, rec, f"{path.stem}_{i:06d}")
                    except (RuntimeFailure, ValueError) as e:
                        self.fail(rec, e)
                    self.records.append(rec)
            except ValueError as e:
                rec = {"file": str(path)}
                self.fail(rec, e)
                self.records.append(rec)
            return
        rec = {"file": str(path)}
        try:
            self.one(load_image(path), rec, path.stem)
        except (RuntimeFailure, ValueError, OSError) as e:
            self.fail(rec, e)
        self.records.append(rec)


def dump_json(model: dict, records: list[dict]) -> str:
    """The results document, one line per image or frame (readable and diff-able)."""
    lines = ",\n  ".join(json.dumps(r) for r in records)
    return f'{{"model": {json.dumps(model)},\n "results": [\n  {lines}\n ]}}\n'


@reports_missing_modules("gv-infer")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    files = expand([*args.inputs, *([SAMPLES] if args.samples else [])])
    if not files:
        print("gv-infer: error: no images or videos in the inputs (give files, folders or "
              "--samples)", file=sys.stderr)
        return 2
    problem = prepare_outputs({"--json": args.json}, {"--draw": args.draw})
    if problem:
        print(f"gv-infer: error: {problem}", file=sys.stderr)
        return 2
    try:
        box = parse_box(args.box)
        delegate = None
        if args.delegate:
            opts = dict(o.partition("=")[::2] for o in args.delegate_option)
            delegate = DelegateSpec(args.delegate, opts)
        lm = Landmarker.from_file(args.model, delegate=delegate, threads=args.threads,
                                  cpu_fallback=args.cpu_fallback, providers=args.provider,
                                  kernels=args.kernels, subpixel=args.subpixel,
                                  min_score=args.min_score)
    except (RuntimeFailure, ValueError, argparse.ArgumentTypeError) as e:
        print(f"gv-infer: error: {e}", file=sys.stderr)
        return 2
    if lm.backend.cpu_ops:
        ops = lm.backend.cpu_ops
        print(f"gv-infer: note: {len(ops)} op(s) not taken by the delegate run on the CPU: "
              f"{', '.join(ops[:12])}{' ...' if len(ops) > 12 else ''}", file=sys.stderr)
    runner = Runner(lm, box, args.draw, args.refine)
    from tqdm import tqdm

    for path in tqdm(files, desc="gv-infer", unit="file",
                     disable=args.no_progress or len(files) < 2):
        runner.file(path, args.every)
    text = dump_json(lm.describe(), runner.records)
    if args.json:
        args.json.write_text(text)
    else:
        sys.stdout.write(text)
    return 1 if runner.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
