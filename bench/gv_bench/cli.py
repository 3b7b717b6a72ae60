"""The `gv-bench` command.

`gv-bench [--gv M] [--heatmap M] [...]` runs the side-by-side model benchmark (compare.py);
`gv-bench decode [...]` runs the native decoder's microbenchmark (decode.py), `gv-bench batch`
the landmark step with several faces in one call (batch.py). Each subcommand
module contributes `add_parser(subparsers)`, which sets `run` as a default.
"""

from __future__ import annotations

import argparse
import sys

from . import batch, bpm, compare, decode, graphs, npu, video

SUBCOMMANDS = ("decode", "bpm", "graphs", "npu", "video", "batch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gv-bench",
        description="Benchmarks for Gaussian Vector landmarks: GV against the heatmap baseline. "
        "With no subcommand: the models side by side (below). `gv-bench decode -h`: the "
        "native decoders alone; `gv-bench bpm -h`: the BPM tail's cost inside the GV graph; "
        "`gv-bench graphs -h`: each graph shape per target; `gv-bench npu -h`: each head on "
        "each NPU target, judged in the vendor simulators; `gv-bench video -h`: detecting every "
        "frame against tracking on a video; `gv-bench batch -h`: the time a face takes with "
        "several faces in one call.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{decode,bpm,graphs,npu,video,batch}")
    decode.add_parser(sub)
    bpm.add_parser(sub)
    graphs.add_parser(sub)
    npu.add_parser(sub)
    video.add_parser(sub)
    batch.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        return int(args.run(args))
    if argv[:1] in (["-h"], ["--help"]):
        build_parser().print_help()
        print()
    return compare.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
