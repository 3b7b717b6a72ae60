"""`gv-bench bpm`: what the Band Pooling Module costs inside the exported GV graph.

The BPM tail (means to packed output) is measured as a difference, side by side in one run:
the GV checkpoint is exported for the CPU target twice per precision, once whole and once cut
after the FPN decoder (its features as the output, already in the device's NHWC order so no
transpose is added), and both are timed interleaved on the same interpreter and thread. The
share is (whole - trunk) / whole of the forward pass. On the NPU the vela report of the Ethos-U
export gives the tail's cycles directly (`VelaReport.tail_cycles`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gaussian_vector.console.outputs import prepare_outputs

from .pipeline import time_forwards


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bpm", help="the BPM tail's share of the GV forward (CPU) and of the "
                       "Ethos-U cycles", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="default", help="GV checkpoint or alias (default: default)")
    p.add_argument("--imgsz", type=int, help="input size (default: the checkpoint's)")
    p.add_argument("--runs", type=int, default=200, help="interleaved runs (default 200)")
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument("--npu", default="ethos-u55-256", help="vela config (default ethos-u55-256)")
    p.add_argument("--no-npu", action="store_true", help="skip the vela estimate")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    p.set_defaults(run=run)


def _trunk_and_whole(model: str, imgsz: int | None, int8: bool, out: Path) -> tuple[Path, Path]:
    """CPU-target .tflite files of the GV model cut after the decoder, and whole."""
    from gv_export.targets import TARGETS

    from .raw_export import wrapped, write_tflite

    graph = TARGETS["cpu-tflite"].graph("tflite", int8)
    wrapper, config, x = wrapped(model, imgsz, graph, faces=16)
    if config.head != "gv":
        raise ValueError(f"{model} is a {config.head!r} model: the BPM tail is GV's")
    precision = "int8" if int8 else "fp32"
    return (write_tflite(_trunk(wrapper), x, int8, out / f"trunk_{precision}.tflite"),
            write_tflite(wrapper, x, int8, out / f"whole_{precision}.tflite"))


def _trunk(wrapper):
    """The wrapper's network up to the decoder features, NHWC out (no BPM, no head)."""
    from torch import nn

    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = wrapper.model

        def forward(self, images):
            f = self.model.decoder(self.model.backbone(images.permute(0, 3, 1, 2)))
            return f.permute(0, 2, 3, 1)

    return Trunk()


def run(args: argparse.Namespace) -> int:
    import tempfile

    problem = prepare_outputs({"--json": args.json})
    if problem or args.runs < 1 or args.threads < 1:
        print(f"gv-bench bpm: error: {problem or '--runs and --threads must be >= 1'}",
              file=sys.stderr)
        return 2
    from gv_export.errors import ExportError

    figures: dict = {"threads": args.threads, "runs": args.runs, "cpu": {}}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        try:
            for int8 in (False, True):
                files[int8] = _trunk_and_whole(args.model, args.imgsz, int8, Path(tmp))
        except (ValueError, ExportError) as e:
            print(f"gv-bench bpm: error: {e}", file=sys.stderr)
            return 2
        order = [p for pair in files.values() for p in pair]
        timed = time_forwards(order, args.runs, args.threads)
        stats = {p: st for p, (st, _) in zip(order, timed, strict=True)}
        for int8, (trunk, whole) in files.items():
            t, w = stats[trunk].median / 1e6, stats[whole].median / 1e6
            key = "int8" if int8 else "fp32"
            figures["cpu"][key] = {"whole_ms": w, "trunk_ms": t, "bpm_ms": w - t,
                                   "bpm_share": (w - t) / w}
            print(f"CPU {key}: GV forward {w:.3f} ms, without the BPM tail {t:.3f} ms: "
                  f"BPM {1e3 * (w - t):.0f} µs = {100 * (w - t) / w:.1f}% of the forward")
    if not args.no_npu:
        from gv_export.exporter import ExportOptions, export

        with tempfile.TemporaryDirectory() as tmp:
            try:
                res = export(args.model, "tflite", ExportOptions(
                    int8=True, imgsz=args.imgsz, npu=args.npu, out=Path(tmp),
                    max_nme_increase=float("inf")), log=lambda _: None)
                v = res.vela
                figures["npu"] = {"accelerator": args.npu, "cycles": v.cycles,
                                  "bpm_cycles": v.tail_cycles, "bpm_share": v.tail_share}
                print(f"NPU {args.npu}: {v.cycles:,.0f} cycles, BPM {v.tail_cycles:,.0f} = "
                      f"{100 * v.tail_share:.2f}%")
            except ExportError as e:
                figures["npu"] = {"skipped": str(e)}
                print(f"NPU estimate skipped: {e}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"wrote {args.json}")
    return 0
