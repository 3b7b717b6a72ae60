"""gv-train: train the GV model or the heatmap baseline on a 300-W-layout data folder."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import PADDINGS, head_names
from ..console.data import default_data_root
from ..console.extras import need, one_line_errors

if TYPE_CHECKING:  # torch-free at import: every --help works without torch
    from ..config import ModelConfig
    from ..data.readers import Sample
    from ..train import TrainConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gv-train", description=__doc__)
    p.add_argument("--head", choices=head_names(), default="gv")
    p.add_argument("--data", type=Path, default=None, help="data root (default: $GV_DATA or "
                   "../shared/data)")
    p.add_argument("--out", type=Path, help="run folder (checkpoints, log.jsonl); required "
                   "unless --plot-convergence")
    p.add_argument("--youtube", action="store_true", help="add the YouTube Faces train frames")
    p.add_argument("--youtube-labels", choices=("aligned", "as-given"), default="aligned",
                   help="with --youtube: move the frames' labels to 300-W's convention by the "
                   "measured per-landmark offsets (aligned, the default: data/label_offsets.py) "
                   "or train on them as given")
    p.add_argument("--boxes-file", type=Path,
                   help="face boxes to crop with, 'NAME x0 y0 x1 y1' a line (faces not named "
                   "there use their landmarks' tight box)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-5)
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--awing", type=float, default=0.0, help="AWing weight-map factor: "
                   "1 + A on the (dilated) region where the target is >= 0.2, for heatmaps or "
                   "vector labels (paper 10; 0 = plain MSE)")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--shift", type=float, default=0.0, help="augmentation: max jitter of the "
                   "crop centre, fraction of its side (puts some landmarks outside the crop)")
    p.add_argument("--flip-shift", type=float, default=0.0, help="augmentation: flipped "
                   "faces' labels sit this fraction of the landmarks' box right of the exact "
                   "mirror, keeping the annotators' offset (300-W: 0.004; docs/training.md)")
    p.add_argument("--colour", type=float, default=0.0, metavar="P", help="augmentation: "
                   "probability of a brightness / contrast / saturation change")
    p.add_argument("--blur", type=float, default=0.0, metavar="P", help="augmentation: "
                   "probability of a blur or a down-and-up resize (low-resolution frames)")
    p.add_argument("--init-from", metavar="MODEL", help="start from this checkpoint's weights "
                   "(path or alias, e.g. default) with a fresh optimiser and schedule")
    p.add_argument("--pretrained", type=Path, metavar="FILE", help="start the backbone from "
                   "Google's ImageNet MobileNetV3-Small 1.0 .tflite (TF-slim, uint8); implies "
                   "TF's input scaling (x - 128) / 127 and --padding tf (docs/training.md)")
    p.add_argument("--padding", choices=PADDINGS, default=None, help="stride-2 convolutions: "
                   "'torch' symmetric or 'tf' SAME (default: tf with --pretrained, else torch)")
    p.add_argument("--input-size", type=int, default=256)
    p.add_argument("--enlarge", type=float, default=1.25,
                   help="crop side = this x the face box's longer side (default %(default)s); "
                   "the model carries it, so the runtime crops the same")
    p.add_argument("--width-mult", type=float, default=1.0)
    p.add_argument("--arch", default="mobilenetv3_small")
    p.add_argument("--bpm-edges", choices=("valid", "zeros"), default="valid",
                   help="GV: Band Pooling where a band overhangs the map (see bpm.py)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    p.add_argument("--workers", type=int, default=None, help="DataLoader worker processes for "
                   "augmentation (0 = in the training process; default: 0 on a CPU, up to 4 on "
                   "a GPU)")
    p.add_argument("--device", default="", help="cpu / cuda (default: cuda if available)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training faces")
    p.add_argument("--max-steps", type=int, default=0, help="steps per epoch cap (smoke runs)")
    p.add_argument("--no-resume", action="store_true", help="start over even if last.pt exists")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--plot-convergence", type=Path, metavar="PNG",
                   help="do not train: plot validation NME per epoch of --runs into PNG")
    p.add_argument("--runs", nargs="+", default=[], metavar="LABEL=DIR",
                   help="with --plot-convergence: run folders holding log.jsonl")
    return p


def read_log(path: Path) -> list[dict]:
    """The per-epoch records of a run's log.jsonl (a resumed run appends; the last wins)."""
    import json

    recs: dict[int, dict] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                r = json.loads(line)
                recs[int(r["epoch"])] = r
                float(r["nme_ion"])
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path}:{n} is not a gv-train log record (JSON with "
                                 "'epoch' and 'nme_ion')") from None
    return [recs[k] for k in sorted(recs)]


def plot_convergence(runs: dict[str, Path], out: Path) -> None:
    """Validation ION NME (%) per epoch, one line per run (the paper's Fig. 6 comparison)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    values = []
    for label, run in runs.items():
        recs = read_log(Path(run) / "log.jsonl")
        ys = [100 * r["nme_ion"] for r in recs]
        values += ys
        ax.plot([r["epoch"] for r in recs], ys, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation NME, inter-ocular (%)")
    if values and max(values) > 3 * min(values):
        ax.set_yscale("log")  # from-scratch runs span 100% to 3%: a log axis keeps both readable
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(FormatStrFormatter("%g"))  # plain 3.4, not 3.4 x 10^0
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def pretrained_inputs(args: argparse.Namespace) -> dict:
    """ModelConfig fields that belong to the starting weights: a --pretrained run takes TF's
    input scaling and, unless --padding says otherwise, TF's SAME padding; an --init-from run
    its source's scaling and padding (its weights mean nothing under others); otherwise only
    --padding (default torch). ValueError when the --init-from file cannot be read."""
    from ..config import TF_MEAN, TF_STD

    if args.pretrained:
        return {"padding": args.padding or "tf", "mean": TF_MEAN, "std": TF_STD}
    if args.init_from:
        from .. import checkpoint

        try:
            src = checkpoint.load_raw(checkpoint.resolve(args.init_from))["config"]
        except FileNotFoundError as e:
            raise ValueError(f"--init-from: {e}") from None
        return {"padding": args.padding or src.get("padding", "torch"),
                "mean": tuple(src["mean"]), "std": tuple(src["std"])}
    return {"padding": args.padding or "torch"}


def convergence_plot(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """--plot-convergence: the runs' validation curves into one PNG (no training)."""
    from ..console.outputs import prepare_outputs

    try:
        runs = dict(r.split("=", 1) for r in args.runs)
    except ValueError:
        parser.error("--runs takes LABEL=DIR pairs")
    if not runs:
        parser.error("--plot-convergence needs --runs LABEL=DIR ...")
    missing = [d for d in runs.values() if not (Path(d) / "log.jsonl").is_file()]
    if missing:
        parser.error(f"no log.jsonl in {missing}")
    problem = (prepare_outputs({"--plot-convergence": args.plot_convergence})
               or need("--plot-convergence", "matplotlib"))
    if problem:
        parser.error(problem)
    try:
        plot_convergence(runs, args.plot_convergence)
    except ValueError as e:
        parser.error(str(e))
    return 0


def recipe(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """(ModelConfig, TrainConfig) from the options; ValueError naming a field that is wrong."""
    from ..config import ModelConfig
    from ..data.augment import NO_AUGMENT, AugmentConfig
    from ..flip_test import FLIP_SHIFT_KEY
    from ..train import TrainConfig

    # the flip shift the labels are learned with: the flip test undoes it (flip_test.py)
    extra = {FLIP_SHIFT_KEY: args.flip_shift} if args.flip_shift and not args.no_augment else {}
    mc = ModelConfig(head=args.head, arch=args.arch, width_mult=args.width_mult,
                     input_size=args.input_size, bpm_edges=args.bpm_edges, extra=extra,
                     enlarge=args.enlarge,
                     **pretrained_inputs(args))
    tc = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                     min_lr=args.min_lr, warmup_epochs=args.warmup_epochs,
                     weight_decay=args.weight_decay, seed=args.seed, threads=args.threads,
                     workers=args.workers,
                     awing_weight=args.awing, augment=NO_AUGMENT if args.no_augment
                     else AugmentConfig(shift=args.shift, flip_shift=args.flip_shift,
                                        colour_p=args.colour, blur_p=args.blur),
                     device=args.device,
                     max_steps_per_epoch=args.max_steps, progress=not args.no_progress)
    return mc, tc


def pretrained_problem(path: Path, arch: str, width_mult: float) -> str | None:
    """One line when --pretrained cannot be read or does not fit the architecture, found
    before the data is read (not a traceback after it); None when it is fine."""
    from ..models.pretrained import check_file

    problem = (None if Path(path).suffix == ".npz"  # the converted form needs numpy only
               else need("--pretrained (reading a .tflite)", "ai_edge_litert"))
    if problem:
        return problem
    try:
        check_file(path, arch, width_mult)
    except (FileNotFoundError, ValueError) as e:
        return f"--pretrained: {e}"
    return None


def training_faces(args: argparse.Namespace, data: Path) -> tuple[list[Sample], list[Sample]]:
    """(training faces, validation faces) of the project split under `data`, with the boxes of
    --boxes-file and at most --limit training faces; ValueError or FileNotFoundError with the
    line to print."""
    from ..data import label_offsets
    from ..train import split_300w

    offsets = None
    if args.youtube and args.youtube_labels == "aligned":
        offsets = label_offsets.youtube_offsets()
    try:
        train_s, val_s, summary = split_300w(data, youtube=args.youtube, youtube_offsets=offsets)
    except (FileNotFoundError, ValueError) as e:  # e.g. no helen/val.txt, no afw folder
        raise ValueError(f"{e} (the 300-W layout: docs/training.md)") from None
    logging.info("data: %s (%d train, %d val)%s", summary, len(train_s), len(val_s),
                 f"; YouTube labels {args.youtube_labels}" if args.youtube else "")
    if args.boxes_file:
        from ..data.boxes import read_boxes, with_boxes

        boxes = read_boxes(args.boxes_file)
        train_s, n_train = with_boxes(train_s, boxes)
        val_s, n_val = with_boxes(val_s, boxes)
        logging.info("boxes from %s: %d faces without one use their landmarks' box",
                     args.boxes_file, n_train + n_val)
    if args.limit:
        train_s = train_s[: args.limit]
    return train_s, val_s


def data_options(args: argparse.Namespace, data: Path) -> dict:
    """What the training faces were read from, for train_config.json."""
    return {"root": str(data), "youtube": args.youtube,
            "youtube_labels": args.youtube_labels if args.youtube else None,
            "boxes_file": None if args.boxes_file is None else str(args.boxes_file),
            "limit": args.limit}


def refused(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """parser.error (which exits) for a number out of range or options that exclude each
    other."""
    if args.limit < 0:
        parser.error(f"--limit must be 0 (all faces) or more, got {args.limit}")
    if args.pretrained and args.init_from:
        parser.error("--pretrained and --init-from both set the starting weights: give one")


@one_line_errors("gv-train", interrupted=": the same command again resumes from last.pt, the "
                 "end of the last finished epoch")
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.plot_convergence:
        return convergence_plot(parser, args)
    if args.out is None:
        parser.error("--out is required")
    problem = need("training", "torch")
    if problem:
        print(f"gv-train: error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    refused(parser, args)
    try:  # the recipe first: a typo is reported before the data is read
        mc, tc = recipe(args)
    except ValueError as e:
        print(f"gv-train: {e}", file=sys.stderr)
        return 2
    problem = args.pretrained and pretrained_problem(args.pretrained, mc.arch, mc.width_mult)
    data = args.data or default_data_root()
    if not problem and not (data / "300w").is_dir():
        problem = f"no 300w folder under {data} (set --data or GV_DATA)"
    if not problem:
        from ..console.outputs import prepare_outputs

        problem = prepare_outputs(folders={"--out": args.out})
    if problem:
        print(f"gv-train: {problem}", file=sys.stderr)
        return 2
    from ..train import train

    try:
        train_s, val_s = training_faces(args, data)
        best = train(mc, tc, train_s, val_s, args.out, resume=not args.no_resume,
                     init_from=args.init_from, pretrained=args.pretrained,
                     data=data_options(args, data))
    except (FileNotFoundError, ValueError) as e:  # e.g. --init-from of another model config
        print(f"gv-train: {e}", file=sys.stderr)
        return 2
    if best:
        from ..metrics import format_summary

        print(f"best epoch {best['epoch']}: val {format_summary(best)} -> {args.out / 'best.pt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
