"""The `gv-bench` command: one subcommand per benchmark.

Each benchmark module contributes `add_parser(subparsers)`, which registers its subcommand and
sets `run` (a function of the parsed arguments returning the exit status) as a default.
"""

from __future__ import annotations

import argparse

from . import decode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gv-bench",
        description="Benchmarks for Gaussian Vector landmarks: GV against the heatmap baseline.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    decode.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
