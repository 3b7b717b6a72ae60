"""argparse types for the gv-* commands: a bad number is refused by the parser, naming the
option, before any model or data is loaded (`gv-eval: error: argument --threshold: ...`)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from .._checks import positive


def _number(text: str, kind: type) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """A finite float > 0 (thresholds, tau, sigma)."""
    try:
        return positive("value", _number(text, float))  # the numpy modules' own check
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}") from None


def nonnegative_float(text: str) -> float:
    """A finite float >= 0 (tolerances)."""
    v = _number(text, float)
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= `low` (counts: threads, faces, runs)."""

    def parse(text: str) -> int:
        v = _number(text, int)
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}")
        return int(v)

    parse.__name__ = f"integer >= {low}"  # what argparse names in 'invalid ... value'
    return parse
