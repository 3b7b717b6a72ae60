"""Timing helpers for gv-bench: nanosecond samples, summary statistics, process memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    """Median, p90, mean and min of a list of samples, in the samples' unit."""

    median: float
    p90: float
    mean: float
    min: float
    n: int

    @classmethod
    def of(cls, samples: list[float] | np.ndarray) -> Summary:
        s = np.asarray(samples, dtype=np.float64)
        if s.size == 0:
            raise ValueError("no timing samples to summarise")
        return cls(float(np.median(s)), float(np.percentile(s, 90)), float(s.mean()),
                   float(s.min()), int(s.size))

    def scaled(self, factor: float) -> Summary:
        return Summary(self.median * factor, self.p90 * factor, self.mean * factor,
                       self.min * factor, self.n)


def time_ns(fn: Callable[[], object]) -> int:
    """Wall time of one call in nanoseconds."""
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


def time_per_call_ns(fn: Callable[[], object], repeat: int) -> float:
    """Mean nanoseconds per call over `repeat` back-to-back calls (for sub-microsecond work)."""
    t0 = time.perf_counter_ns()
    for _ in range(repeat):
        fn()
    return (time.perf_counter_ns() - t0) / repeat


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")
