"""`gv-bench video`: the face pipeline on a video, detecting every frame against tracking.

A synthetic video (`gaussian_vector.video.synth`: annotated photos moved by smooth similarity
transforms, with hard cuts to other faces) gives the exact landmarks of every frame. Its frames
are drawn first, then each mode runs on them interleaved frame by frame (each mode keeps its own
tracker), one thread:

- detect: the detector and the landmark model on every frame (`FacePipeline.detect`);
- track raw: `FaceTracker` without smoothing;
- track: `FaceTracker` with its One-Euro smoothing.

Per mode: frames per second of the pipeline (the frames already decoded), how often the
detector ran, ION NME against the ground truth, frames where a face was missed, and jitter: the
mean frame-to-frame change of the error vector (prediction - truth) over the inter-ocular
distance, between consecutive frames of the same face. `--sweep` also smooths the raw tracked
landmarks offline with a grid of One-Euro parameters (the tracker's crops come from its raw
landmarks, so this is exactly what the tracker would return) to show the jitter/error trade-off
the defaults were chosen from. `--png` draws error and jitter over time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaussian_vector.console.data import default_data_root
from gaussian_vector.console.outputs import prepare_outputs
from gaussian_vector.video.synth import frame_size

MODES = ("detect", "track raw", "track")
#: (min_cutoff Hz, beta) pairs of the --sweep grid
SWEEP_CUTOFFS = (0.3, 1.0, 3.0)
SWEEP_BETAS = (0.0, 3.0, 10.0, 30.0)
SWEEP_FRAMES = ("face", "image")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("video", help="detect every frame against tracking, with and without "
                       "smoothing, on a synthetic video with known landmarks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default-int8",
                   help="exported model or shipped name (default: default-int8)")
    p.add_argument("--data", type=Path, help="300-W data root to take faces from, HELEN "
                   "validation photos (default: $GV_DATA or ../shared/data when present, else "
                   "the package's two samples)")
    p.add_argument("--samples", action="store_true",
                   help="use the package's two sample photos, not the data folder")
    p.add_argument("--faces", type=int, default=4, help="photos to cut between (default 4)")
    p.add_argument("--frames", type=int, default=480, help="video length (default 480)")
    p.add_argument("--cut-every", type=int, default=120, help="frames between cuts (default 120)")
    p.add_argument("--per-frame", type=int, default=1, help="faces side by side (default 1)")
    p.add_argument("--size", type=frame_size, default=(640, 480), metavar="WxH",
                   help="frame size (default 640x480; the faces keep their size, 60-100 px "
                   "between the outer eye corners)")
    p.add_argument("--seed", type=int, default=0, help="motion and face choice (default 0)")
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument("--sweep", action="store_true",
                   help="also the One-Euro parameter grid, smoothed offline")
    p.add_argument("--png", type=Path, metavar="OUT", help="error and jitter over time")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    p.set_defaults(run=run)


@dataclass
class Trace:
    """One mode's per-frame results: predicted points per ground-truth face (None: missed)."""

    seconds: list[float] = field(default_factory=list)
    points: list[list[np.ndarray | None]] = field(default_factory=list)
    detector_runs: int = 0


def make_video(args: argparse.Namespace):
    """The synthetic video the benchmark runs on."""
    from gaussian_vector.video.synth import SyntheticVideo, data_faces, sample_faces

    root = default_data_root()
    data = None if args.samples else args.data or (root if root.is_dir() else None)
    faces = data_faces(data, args.faces, seed=args.seed) if data else sample_faces()
    return SyntheticVideo(faces, n_frames=args.frames, cut_every=args.cut_every,
                          per_frame=args.per_frame, seed=args.seed, size=args.size)


def match(found: list[np.ndarray], truth: list) -> list[np.ndarray | None]:
    """For each ground-truth face, the found landmarks whose centre is nearest its own, within
    its inter-ocular distance (None: missed)."""
    from gaussian_vector.schemes import get_scheme

    scheme = get_scheme("300w68")
    out: list[np.ndarray | None] = []
    for t in truth:
        iod = float(scheme.interocular(t.points[None])[0])
        best, dist = None, iod
        for pts in found:
            d = float(np.linalg.norm(pts.mean(axis=0) - t.points.mean(axis=0)))
            if d < dist:
                best, dist = pts, d
        out.append(best)
    return out


def run_modes(model: str, threads: int, frames: list[np.ndarray], truths: list,
              fps: float) -> dict[str, Trace]:
    """Every mode on every frame, interleaved frame by frame."""
    from gaussian_vector.modelfile.errors import NoFaceError
    from gaussian_vector.runtime import FacePipeline
    from gaussian_vector.runtime.tracking import FaceTracker

    pipe = FacePipeline.from_file(model, threads=threads)
    pipe.detect(frames[0])  # load the detector and warm both interpreters
    trackers = {"track raw": FaceTracker(pipe, smoothing=None, fps=fps),
                "track": FaceTracker(pipe, fps=fps)}
    traces = {m: Trace() for m in MODES}
    for frame, truth in zip(frames, truths, strict=True):
        for mode in MODES:
            t0 = time.perf_counter()
            if mode == "detect":
                try:
                    found = [f.landmarks for f in pipe.detect(frame)]
                except NoFaceError:
                    found = []
                ran = True
            else:
                tracker = trackers[mode]
                found = [f.face.landmarks for f in tracker.update(frame)]
                ran = bool(tracker.timing.extra.get("detector_ran"))
            tr = traces[mode]
            tr.seconds.append(time.perf_counter() - t0)
            tr.detector_runs += ran
            tr.points.append(match([np.asarray(p, np.float64) for p in found], truth))
    return traces


def errors(points: list[list[np.ndarray | None]], truths: list) -> tuple[np.ndarray, ...]:
    """Per frame and ground-truth face: ION NME (nan: missed) and jitter (nan: first frame of
    a face, or a miss on either side)."""
    from gaussian_vector.schemes import get_scheme

    scheme = get_scheme("300w68")
    n, m = len(truths), len(truths[0])
    nme, jit = np.full((n, m), np.nan), np.full((n, m), np.nan)
    prev: list[tuple[int, np.ndarray] | None] = [None] * m
    for i, (pts, truth) in enumerate(zip(points, truths, strict=True)):
        for j, (p, t) in enumerate(zip(pts, truth, strict=True)):
            iod = float(scheme.interocular(t.points[None])[0])
            if p is None:
                prev[j] = None
                continue
            e = p - t.points
            nme[i, j] = float(np.linalg.norm(e, axis=1).mean() / iod)
            if prev[j] is not None and prev[j][0] == t.identity:
                jit[i, j] = float(np.linalg.norm(e - prev[j][1], axis=1).mean() / iod)
            prev[j] = (t.identity, e)
    return nme, jit


def summary(trace: Trace, truths: list) -> dict:
    nme, jit = errors(trace.points, truths)
    secs = np.asarray(trace.seconds)
    return {"fps": float(len(secs) / secs.sum()), "ms_per_frame": float(np.median(secs) * 1e3),
            "detector_runs": trace.detector_runs, "nme": float(np.nanmean(nme)),
            "missed": int(np.isnan(nme).sum()), "jitter": float(np.nanmean(jit))}


def sweep(raw: Trace, truths: list, fps: float) -> list[dict]:
    """The raw tracked landmarks smoothed offline with each One-Euro pair of the grid, each
    track's filter restarted where its face changes (a cut) or is missed."""
    from gaussian_vector.runtime.smoothing import LandmarkSmoother, OneEuro

    rows = []
    grid = [(fr, fc, beta) for fr in SWEEP_FRAMES for fc in SWEEP_CUTOFFS for beta in SWEEP_BETAS]
    for frame, fc, beta in grid:
        params = OneEuro(min_cutoff=fc, beta=beta, frame=frame)
        smoothers = [LandmarkSmoother(params) for _ in truths[0]]
        last = [None] * len(truths[0])
        out = []
        for i, (pts, truth) in enumerate(zip(raw.points, truths, strict=True)):
            row = []
            for j, (p, t) in enumerate(zip(pts, truth, strict=True)):
                if p is None or last[j] != t.identity:
                    smoothers[j].reset()
                last[j] = None if p is None else t.identity
                row.append(None if p is None else smoothers[j](p, i / fps))
            out.append(row)
        nme, jit = errors(out, truths)
        rows.append({"frame": frame, "min_cutoff": fc, "beta": beta,
                     "nme": float(np.nanmean(nme)), "jitter": float(np.nanmean(jit))})
    return rows


def plot(traces: dict[str, Trace], truths: list, cuts: np.ndarray, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for mode, trace in traces.items():
        nme, jit = errors(trace.points, truths)
        axes[0].plot(100 * nme[:, 0], label=mode, lw=1)
        axes[1].plot(100 * jit[:, 0], label=mode, lw=1)
    for ax, name in zip(axes, ("ION NME %", "jitter % of IOD"), strict=True):
        for c in cuts:
            ax.axvline(c, color="grey", ls=":", lw=1)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].legend()
    axes[1].set_xlabel("frame (dotted: cut to another face)")
    fig.suptitle("gv-bench video: detect every frame vs track (raw, One-Euro smoothed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    problem = prepare_outputs({o: p for o, p in (("--json", args.json), ("--png", args.png))
                               if p is not None}, {})
    if problem:
        print(f"gv-bench video: error: {problem}", file=sys.stderr)
        return 2
    try:
        video = make_video(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"gv-bench video: error: {e}", file=sys.stderr)
        return 2
    print(f"drawing {len(video)} frames of {video.size[0]}x{video.size[1]}, cuts at "
          f"{video.ground_truth.cuts.tolist()}, faces {', '.join(f.name for f in video.faces)}",
          file=sys.stderr)
    frames = [video.frame(i) for i in range(len(video))]
    truths = [video.truth(i) for i in range(len(video))]
    traces = run_modes(args.model, args.threads, frames, truths, video.fps)
    res = {m: summary(t, truths) for m, t in traces.items()}
    report(res, args)
    out = {"model": args.model, "threads": args.threads, "frames": len(frames),
           "cuts": video.ground_truth.cuts.tolist(), "modes": res}
    if args.sweep:
        out["sweep"] = sweep(traces["track raw"], truths, video.fps)
        report_sweep(out["sweep"], res["detect"])
    if args.png:
        plot(traces, truths, video.ground_truth.cuts, args.png)
        print(f"chart: {args.png}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


def report(res: dict, args: argparse.Namespace) -> None:
    print(f"{args.model}, {args.threads} thread(s), {args.frames} frames of "
          f"{args.size[0]}x{args.size[1]}\n")
    print("| mode | fps | ms/frame (median) | detector runs | ION NME % | missed | jitter % |")
    print("|---|---|---|---|---|---|---|")
    for mode, r in res.items():
        print(f"| {mode} | {r['fps']:.1f} | {r['ms_per_frame']:.2f} | {r['detector_runs']} | "
              f"{100 * r['nme']:.2f} | {r['missed']} | {100 * r['jitter']:.3f} |")
    d, t, raw = res["detect"], res["track"], res["track raw"]
    print(f"\ntrack / detect: fps {t['fps'] / d['fps']:.2f}x, NME {t['nme'] / d['nme']:.3f}x, "
          f"jitter {t['jitter'] / d['jitter']:.2f}x (raw tracking: jitter "
          f"{raw['jitter'] / d['jitter']:.2f}x, NME {raw['nme'] / d['nme']:.3f}x)")


def report_sweep(rows: list[dict], detect: dict) -> None:
    print("\nOne-Euro grid on the raw tracked landmarks (ratios to detect-every-frame):")
    print("| frame | min_cutoff Hz | beta | ION NME % | NME ratio | jitter % | jitter ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['frame']} | {r['min_cutoff']} | {r['beta']} | {100 * r['nme']:.2f} | "
              f"{r['nme'] / detect['nme']:.3f} | {100 * r['jitter']:.3f} | "
              f"{r['jitter'] / detect['jitter']:.2f} |")
