"""`gv-bench graphs`: the measurements behind `gv_export.targets`, rerun on any machine.

Each head is exported to .tflite in every graph shape that differs from a target's choice in
one respect (h-swish as one op or as relu6, BPM means as depthwise convolutions or MEAN ops,
FPN upsampling as a resize or as copies), fp32 and full int8; all files are timed interleaved
run by run on one LiteRT interpreter thread, with XNNPACK's partitions, and the int8 files
compiled with vela for the Ethos-U. The table it prints is the one in docs/export.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from gaussian_vector.console.outputs import prepare_outputs

from .pipeline import time_forwards

FLIPS = {"hardswish": ("op", "relu6"), "means": ("conv", "mean"), "upsample": ("resize", "copy")}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graphs", help="every graph shape of each head on XNNPACK and the "
                       "Ethos-U (the measurements behind gv-export's per-target choices)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gv", default="default", help="GV checkpoint or alias")
    p.add_argument("--heatmap", default="heatmap", help="heatmap checkpoint or alias")
    p.add_argument("--imgsz", type=int, help="input size (default: the checkpoints')")
    p.add_argument("--runs", type=int, default=100, help="interleaved runs (default 100)")
    p.add_argument("--npu", default="ethos-u55-256", help="vela config (default ethos-u55-256)")
    p.add_argument("--no-npu", action="store_true", help="skip vela")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the rows as JSON")
    p.set_defaults(run=run)


def variants(head: str, int8: bool) -> list[tuple[str, object]]:
    """(name, Graph) for the CPU target's graph, each one-choice flip of it, and the NPU's."""
    from gv_export.targets import TARGETS

    cpu = TARGETS["cpu-tflite"].graph("tflite", int8)
    out = [("cpu target", cpu)]
    for key, (a, b) in FLIPS.items():
        if key == "means" and head != "gv":
            continue  # the heatmap has no BPM
        flipped = replace(cpu, **{key: b if getattr(cpu, key) == a else a})
        out.append((f"{key}={getattr(flipped, key)}", flipped))
    if int8:
        npu = TARGETS["ethos-u"].graph("tflite", True)
        if all(npu != g for _, g in out):
            out.append(("ethos-u target", npu))
    return out


def _export(model: str, graph, int8: bool, imgsz: int | None, path: Path) -> None:
    """One .tflite of `model` in `graph` (no validation: only its speed is measured here)."""
    from .raw_export import wrapped, write_tflite

    wrapper, _, x = wrapped(model, imgsz, graph)
    write_tflite(wrapper, x, int8, path)


def run(args: argparse.Namespace) -> int:
    problem = prepare_outputs({"--json": args.json})
    if problem or args.runs < 1:
        print(f"gv-bench graphs: error: {problem or '--runs must be >= 1'}", file=sys.stderr)
        return 2
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for head, model in (("gv", args.gv), ("heatmap", args.heatmap)):
            for int8 in (False, True):
                for name, graph in variants(head, int8):
                    path = Path(tmp) / f"{head}-{int8}-{len(files)}.tflite"
                    print(f"exporting {head} {'int8' if int8 else 'fp32'} {name}", flush=True)
                    _export(model, graph, int8, args.imgsz, path)
                    files.append(path)
                    rows.append({"head": head, "precision": "int8" if int8 else "fp32",
                                 "variant": name, "graph": graph.to_dict()})
        timed = time_forwards(files, args.runs)
        for row, (stat, cov), path in zip(rows, timed, files, strict=True):
            row.update(forward_ms=stat.median / 1e6, partitions=cov.partitions,
                       cpu_ops=len(cov.cpu_ops))
            if row["precision"] == "int8" and not args.no_npu:
                from gv_export.vela_report import run_vela

                v = run_vela(path, args.npu)
                row.update(npu_cycles=v.cycles, npu_ops=f"{v.ops_npu}/{v.ops_total}")
    _print(rows, args.npu)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
        print(f"wrote {args.json}")
    return 0


def _print(rows: list[dict], npu: str) -> None:
    """A markdown table: each variant's forward relative to its target's graph."""
    print(f"\n| head | precision | graph | XNNPACK partitions (CPU ops) | forward ms | "
          f"vs CPU target | {npu} cycles |")
    print("|---|---|---|---|---|---|---|")
    base: dict[tuple[str, str], dict] = {}
    for r in rows:
        key = (r["head"], r["precision"])
        base.setdefault(key, r)
        b = base[key]
        cycles = f"{r['npu_cycles']:,.0f}" if "npu_cycles" in r else "-"
        print(f"| {r['head']} | {r['precision']} | {r['variant']} | {r['partitions']} "
              f"({r['cpu_ops']}) | {r['forward_ms']:.3f} | "
              f"{r['forward_ms'] / b['forward_ms']:.2f}x | {cycles} |")
