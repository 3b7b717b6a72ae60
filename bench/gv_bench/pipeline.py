"""The side-by-side measurement: for each model under test, interleaved run by run, time the
network forward, the output fetch (transmission), a memcpy of the same bytes, the native
post-processing and the numpy reference, and derive totals and GV-vs-heatmap ratios."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from .runners import Loaded
from .timing import Summary, rss_bytes, time_ns, time_per_call_ns

Decode = Callable[[np.ndarray], object]


@dataclass
class ModelUnderTest:
    """One exported model with the two decoders that turn its output into landmarks."""

    label: str  # e.g. "gv tflite-int8"
    head: str  # "gv", "heatmap", or "peer" (another model: forward and fetch only)
    fmt: str  # "tflite-int8", "tflite-fp32", "onnx-fp32"
    loaded: Loaded  # runners.Loaded
    native_decode: Decode | None
    reference_decode: Decode | None
    rss_delta_bytes: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)
    output_shape: tuple[int, ...] = ()
    output_dtype: str = ""
    output_bytes: int = 0

    def add(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)


def random_input(runner: object, rng: np.random.Generator) -> np.ndarray:
    """A random input of the model's shape and dtype (timing does not depend on content)."""
    shape, dtype = runner.input_shape, runner.input_dtype
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def measure(
    models: list[ModelUnderTest], runs: int, warmup: int, seed: int = 0, decode_repeat: int = 50
) -> None:
    """Fill each model's `samples` (ns) with `runs` interleaved measurements after `warmup`."""
    if runs < 1:
        raise ValueError(f"--runs must be >= 1, got {runs}")
    if warmup < 0:
        raise ValueError(f"--warmup must be >= 0, got {warmup}")
    rng = np.random.default_rng(seed)
    for m in models:
        m.loaded.runner.set_input(random_input(m.loaded.runner, rng))
    for r in tqdm(range(warmup + runs), desc="gv-bench", unit="run", leave=False):
        for m in models:
            timings = _one_run(m, decode_repeat)
            if r >= warmup:
                for key, value in timings.items():
                    m.add(key, value)


def _one_run(m: ModelUnderTest, decode_repeat: int) -> dict[str, float]:
    """Time forward, fetch, memcpy of the fetched bytes, native and numpy decoding once (ns)."""
    runner = m.loaded.runner
    forward = time_ns(runner.invoke)
    out: list[np.ndarray] = []
    fetch = time_ns(lambda: out.append(runner.fetch()))
    output = out[0]
    dst = np.empty_like(output)
    m.output_shape, m.output_dtype = tuple(output.shape), str(output.dtype)
    m.output_bytes = int(output.nbytes)
    timings = {
        "forward": forward,
        "fetch": fetch,
        "memcpy": time_per_call_ns(lambda: np.copyto(dst, output), decode_repeat),
    }
    if m.native_decode is not None:
        timings["postprocess"] = time_per_call_ns(lambda: m.native_decode(output), decode_repeat)
        timings["reference"] = time_ns(lambda: m.reference_decode(output))
    return timings


def summarise(m: ModelUnderTest, bus_gbps: float) -> dict:
    """Per-model figures (ms for network/total, µs for the small steps), JSON-ready."""
    s = {k: Summary.of(v) for k, v in m.samples.items()}
    bus_us = m.output_bytes * 8 / (bus_gbps * 1e9) * 1e6
    post = m.samples.get("postprocess", np.zeros(len(m.samples["forward"])))
    t = Summary.of(np.asarray(m.samples["forward"]) + m.samples["fetch"] + post)
    none = Summary(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    cov = m.loaded.runner.coverage
    meta = m.loaded.metadata
    return {
        "label": m.label,
        "head": m.head,
        "format": m.fmt,
        "output_shape": list(m.output_shape),
        "output_dtype": m.output_dtype,
        "output_bytes": m.output_bytes,
        "input_size": meta.config.input_size if meta else int(m.loaded.runner.input_shape[1]),
        "xnnpack_partitions": cov.partitions if cov else None,
        "cpu_ops": list(cov.cpu_ops) if cov else None,
        "init_ms": m.loaded.init_ms,
        "rss_delta_mb": m.rss_delta_bytes / 2**20,
        "forward_ms_median": s["forward"].median / 1e6,
        "forward_ms_p90": s["forward"].p90 / 1e6,
        "transmission_us_median": s["fetch"].median / 1e3,
        "transmission_us_p90": s["fetch"].p90 / 1e3,
        "memcpy_us_median": s["memcpy"].median / 1e3,
        "bus_model_us": bus_us,
        "postprocess_us_median": s.get("postprocess", none).median / 1e3,
        "postprocess_us_p90": s.get("postprocess", none).p90 / 1e3,
        "reference_postprocess_us_median": s.get("reference", none).median / 1e3,
        "total_ms_median": t.median / 1e6,
        "total_ms_p90": t.p90 / 1e6,
        "runs": s["forward"].n,
    }


def compare(gv: dict, hm: dict) -> dict:
    """Heatmap / GV ratios (> 1 means GV is smaller or faster) and the share of time GV saves."""
    def ratio(key: str) -> float:
        return hm[key] / gv[key] if gv[key] else float("inf")

    return {
        "format": gv["format"],
        "input_size": gv["input_size"],
        "output_bytes_ratio": ratio("output_bytes"),
        "transmission_ratio": ratio("transmission_us_median"),
        "memcpy_ratio": ratio("memcpy_us_median"),
        "postprocess_ratio": ratio("postprocess_us_median"),
        "forward_ratio": ratio("forward_ms_median"),
        "total_ratio": ratio("total_ms_median"),
        "total_saving": 1.0 - gv["total_ms_median"] / hm["total_ms_median"],
    }


def peer_ratio(gv: dict, peer: dict) -> dict:
    """GV's forward against another model's, measured in the same run (< 1: GV is faster)."""
    return {"gv": gv["label"], "peer": peer["label"], "peer_input_size": peer["input_size"],
            "forward_ratio": gv["forward_ms_median"] / peer["forward_ms_median"]}


def measure_rss(load: Callable[[], Loaded]) -> tuple[Loaded, int]:
    """Load a model and report how much resident memory it added."""
    before = rss_bytes()
    loaded = load()
    return loaded, max(0, rss_bytes() - before)


def time_forwards(paths: list, runs: int, threads: int = 1, warmup: int = 10) -> list[tuple]:
    """(forward Summary in ns, XNNPACK coverage) of each .tflite file, timed interleaved run by
    run on LiteRT with `threads` threads: for comparing graphs of one model."""
    from .runners import load_peer

    rng = np.random.default_rng(0)
    runners = [load_peer(p, threads).runner for p in paths]
    for r in runners:
        r.set_input(random_input(r, rng))
    samples: list[list[int]] = [[] for _ in runners]
    for i in range(runs + warmup):
        for r, s in zip(runners, samples, strict=True):
            t = time_ns(r.invoke)
            if i >= warmup:
                s.append(t)
    return [(Summary.of(s), r.coverage) for s, r in zip(samples, runners, strict=True)]
