"""Write the bundled face detector's boxes for annotated photos as a `--boxes-file`.

Each face's box is the detection matched to its landmarks by `evaluate.MATCH_RULE`, mapped to
the landmark-box convention the runtime crops with (`evaluate.match_detections`); faces the
detector misses are left out (gv-train and gv-eval then use their landmarks' tight box). With
it, `gv-train --boxes-file` trains on the boxes the model will be given end to end.
Run: python tools/detector_boxes.py DIR [DIR ...] -o boxes.txt [--exclude NAMES.txt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaussian_vector.data import read_300w
from gaussian_vector.data.readers import read_name_list
from gaussian_vector.evaluate import match_detections


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", type=Path, help="300-W-layout folders (NAME.jpg + .pts)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="the box file to write")
    ap.add_argument("--exclude", type=Path, help="a list of names to leave out (e.g. val.txt)")
    args = ap.parse_args(argv)
    try:
        exclude = read_name_list(args.exclude) if args.exclude else None
        samples, _ = read_300w([str(d) for d in args.data], exclude=exclude)
    except (FileNotFoundError, ValueError) as e:
        print(f"detector_boxes: {e}", file=sys.stderr)
        return 2
    matches = match_detections(samples)
    lines = [f"# the bundled detector's boxes (landmark-box convention), {len(samples)} faces"]
    for s, box in zip(samples, matches.boxes, strict=True):
        if box is not None:
            lines.append(f"{s.name} " + " ".join(f"{v:.2f}" for v in box))
    args.output.write_text("\n".join(lines) + "\n")
    found = int(matches.found.sum())
    print(f"wrote {args.output}: {found} of {len(samples)} faces ({len(samples) - found} missed, "
          "left to their landmarks' box)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
