"""Measure a data source's label offsets against 300-W's convention (data/label_offsets.py).

A model trained on 300-W only reads every face of the folder (boxes from its labels); the
per-landmark median of (reading - label) is written as JSON, which gv-train --youtube adds to the
YouTube frames' labels. The shipped file was made with

    python tools/measure_label_offsets.py --model default \\
        --data ../shared/data/youtube-faces/trainset \\
        --out python/gaussian_vector/data/youtube_offsets.json

(torch and the data needed: the `train` extra.)
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default",
                   help="a model trained on 300-W only (checkpoint, alias or exported file)")
    p.add_argument("--data", type=Path, required=True, help="300-W-layout folder of the source")
    p.add_argument("--out", type=Path, required=True, help="the JSON to write")
    args = p.parse_args(argv)
    from gaussian_vector.data import label_offsets
    from gaussian_vector.data.readers import read_300w
    from gaussian_vector.evaluate import predict

    try:
        samples, summary = read_300w(args.data)
        if not samples:
            raise ValueError(f"no annotated faces in {args.data} ({summary})")
        readings, _ = predict(args.model, samples, progress=sys.stderr.isatty())
        labels = np.stack([s.points for s in samples])
        offsets = label_offsets.measure(readings, labels)
    except (FileNotFoundError, ValueError) as e:
        print(f"measure_label_offsets: {e}", file=sys.stderr)
        return 2
    label_offsets.write(args.out, offsets, what="per-landmark median of (reading - label), "
                        "pixels; add to the labels to move them to 300-W's convention",
                        model=str(args.model), data="/".join(args.data.resolve().parts[-2:]),
                        faces=len(samples), date=date.today().isoformat())
    x, y = offsets.mean(axis=0)
    print(f"{len(samples)} faces: mean offset x {x:+.3f} px, y {y:+.3f} px -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
