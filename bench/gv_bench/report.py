"""gv-bench output: a rich table (ours beside the paper's Table 9), JSON, and a PNG bar chart."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from .paper import TABLE9


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        if names:
            cpu = f"{names[0]} x{len(names)}"
    except OSError:
        pass
    return f"{cpu}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def _num(value: float | None, fmt: str) -> str:
    """A figure, or '-' where a model has none (a peer has no decoder; ONNX no partitions)."""
    if value is None or value != value:  # None or NaN
        return "-"
    return format(value, fmt)


def print_table(results: list[dict], comparisons: list[dict], bus_gbps: float,
                against_peers: list[dict] = ()) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped into a file or a CI log, rich would squeeze the 12 columns into 80 characters.
    console = Console() if sys.stdout.isatty() else Console(width=180)
    t = Table(title=f"gv-bench on {machine()}", show_lines=False)
    for col in ("model", "output", "bytes", "XNNPACK parts", "init ms", "forward ms (p90)",
                "fetch µs", "memcpy µs", f"bus {bus_gbps:g} Gb/s µs", "decode µs (p90)",
                "numpy µs", "total ms"):
        t.add_column(col, justify="right" if col != "model" else "left")
    for r in results:
        parts = _num(r["xnnpack_partitions"], "d")
        if r["cpu_ops"]:
            parts += f" (+{len(r['cpu_ops'])} CPU ops)"
        t.add_row(
            r["label"], f"{tuple(r['output_shape'])} {r['output_dtype']}", f"{r['output_bytes']:,}",
            parts, f"{r['init_ms']:.1f}",
            f"{r['forward_ms_median']:.2f} ({r['forward_ms_p90']:.2f})",
            f"{r['transmission_us_median']:.2f}", f"{r['memcpy_us_median']:.2f}",
            f"{r['bus_model_us']:.2f}",
            f"{_num(r['postprocess_us_median'], '.3f')} ({_num(r['postprocess_us_p90'], '.3f')})",
            _num(r["reference_postprocess_us_median"], ".1f"), f"{r['total_ms_median']:.3f}",
        )
    console.print(t)
    if against_peers:
        pt = Table(title="GV forward / peer forward, same interpreter and threads (< 1: GV faster)")
        for col in ("GV model", "peer (another task)", "peer input", "ratio"):
            pt.add_column(col, justify="right" if col == "ratio" else "left")
        for a in against_peers:
            pt.add_row(a["gv"], a["peer"], f"{a['peer_input_size']} px",
                       f"{a['forward_ratio']:.2f}x")
        console.print(pt)
    c = Table(title="heatmap / GV (x times smaller or faster), from this run")
    for col in ("format", "output bytes", "fetch", "memcpy", "decode", "forward", "total",
                "GV saves"):
        c.add_column(col, justify="right")
    for cmp in comparisons:
        c.add_row(
            f"{cmp['format']} {cmp['input_size']}px", f"{cmp['output_bytes_ratio']:.1f}x",
            f"{cmp['transmission_ratio']:.1f}x",
            f"{cmp['memcpy_ratio']:.1f}x", f"{cmp['postprocess_ratio']:.1f}x",
            f"{cmp['forward_ratio']:.2f}x", f"{cmp['total_ratio']:.3f}x",
            f"{100 * cmp['total_saving']:.1f}%",
        )
    hm, gv = TABLE9["heatmap"], TABLE9["gv"]
    c.add_row(
        "paper Table 9", f"{64 * 64 / 128:.0f}x",
        f"{hm['transmission_ms'] / gv['transmission_ms']:.1f}x", "-",
        f"{hm['postprocess_ms'] / gv['postprocess_ms']:.1f}x", "~1x", "-",
        f"{100 * TABLE9['total_saving']:.0f}%",
    )
    console.print(c)
    console.print(
        f"fetch = reading the output out of the interpreter (ONNX Runtime: a copy of its result);"
        f" bus = output bytes over a modelled {bus_gbps:g} Gb/s NPU-to-CPU link. Paper: "
        f"{TABLE9['device']}."
    )


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True))


def plot(path: Path, results: list[dict]) -> None:
    """Stacked bars per model: forward, fetch and decode (ms), plus output bytes on a 2nd axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [r["label"] for r in results]
    fwd = [r["forward_ms_median"] for r in results]
    fetch = [r["transmission_us_median"] / 1e3 for r in results]
    post = [r["postprocess_us_median"] / 1e3 for r in results]
    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.8))
    y = range(len(labels))
    ax.barh(y, fwd, color="#4c72b0", label="network forward")
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("ms (median)")
    ax.set_title("network forward")
    ax2.barh(y, [1e3 * f for f in fetch], color="#dd8452", label="fetch (transmission)")
    ax2.barh(y, [1e3 * p for p in post], left=[1e3 * f for f in fetch], color="#55a868",
             label="decode (native)")
    ax2.set_yticks(list(y), [""] * len(labels))
    ax2.set_xscale("log")
    ax2.set_xlabel("µs (median, log)")
    ax2.set_title("after the network: fetch + decode")
    ax2.legend(loc="lower right", fontsize=8)
    ax3.barh(y, [r["output_bytes"] / 1024 for r in results], color="#8172b3")
    ax3.set_yticks(list(y), [""] * len(labels))
    ax3.set_xscale("log")
    ax3.set_xlabel("KiB (log)")
    ax3.set_title("output tensor size")
    fig.suptitle(f"GV vs heatmap — {machine()}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
