"""`gv-bench npu`: each head exported for each NPU target and judged in the vendor's simulator on
held-out faces: ops on the NPU, the compiler's cycle and memory estimates, and the simulator's
landmarks against fp32 torch (mean px) and the ground truth (ION NME beside fp32's on the same
faces). Targets: the vendor NPUs of `gv_export.targets.VENDOR_NPUS` (their environments from
tools/npu_env.sh), an Ethos-U config (vela's report; accuracy through TFLM, the interpreter its
Cortex-M runs) and `tflm` (the arena and whether TFLM has every op). docs/npu.md has the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from gaussian_vector.console.outputs import prepare_outputs

DEFAULT_TARGETS = ("rk3588", "rv1106", "rk3566", "qnn-htp", "ethos-u55-256", "tflm")
COLUMNS = ("head", "target", "ops_on_npu", "ops_total", "cycles", "memory_bytes",
           "sim_landmark_px", "sim_nme_ion", "fp32_nme_ion")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("npu", help="each head on each NPU target, judged in the vendor "
                       "simulators (ops on the NPU, cycles, memory, accuracy vs fp32)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gv", default="default", help="GV checkpoint or alias")
    p.add_argument("--heatmap", default="heatmap", help="heatmap checkpoint or alias")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                   help=f"comma-separated (default {','.join(DEFAULT_TARGETS)})")
    p.add_argument("--data", type=Path, required=True, help="300-W-layout folder of the faces")
    p.add_argument("--names", type=Path, help="file of names to keep (e.g. helen/val.txt)")
    p.add_argument("--faces", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--calib", type=Path, help="calibration folder (default: the packaged "
                   "samples, as gv-export)")
    p.add_argument("--json", type=Path, metavar="OUT", required=True, help="the rows as JSON")
    p.add_argument("--plot", type=Path, metavar="PNG", help="NME and cycles per target")
    p.set_defaults(run=run)


def split_faces(data: Path, names: Path | None, config, limit: int):
    """`gv_export.calibration.Faces` of the annotated faces named in `names` (all if None),
    cropped as the runtime crops them (boxes from the landmarks)."""
    from gaussian_vector import affine
    from gaussian_vector.data import read_300w
    from gaussian_vector.image import load_image
    from gaussian_vector.preprocess import crop_face
    from gv_export.calibration import Faces

    samples, _ = read_300w(data, n_points=config.num_landmarks)
    keep = set(names.read_text().split()) if names else None
    samples = [s for s in samples if keep is None or s.name in keep][:limit]
    if not samples:
        raise ValueError(f"no annotated faces in {data}" + (f" named in {names}" if names else ""))
    crops, points = [], []
    for s in samples:
        crop, m = crop_face(load_image(s.image), affine.box_from_landmarks(s.points), config)
        crops.append(crop)
        points.append(affine.apply(m, np.asarray(s.points, np.float64)))
    return Faces(np.stack(crops), np.stack(points).astype(np.float32),
                 [s.name for s in samples], str(data))


def measure(head: str, model: str, target: str, args: argparse.Namespace, tmp: Path,
            cache: dict) -> dict:
    """One row: export for `target`, run the held-out faces in its simulator, compare."""
    from gaussian_vector.preprocess import normalise
    from gaussian_vector.runtime.simulators import SimulatorBackend, open_simulated
    from gv_export.exporter import ExportOptions, export, load_checkpoint
    from gv_export.npu.export import judge

    net, config, _ = load_checkpoint(model)
    faces = split_faces(args.data, args.names, config, args.faces)
    x = normalise(faces.crops, config).astype(np.float32)
    row: dict = {"head": head, "target": target, "faces": len(faces.names)}
    quiet = lambda line: None  # noqa: E731 - the export's own lines are not the bench's
    calib = str(args.calib) if args.calib else None
    if target.startswith("ethos-u") or target == "tflm":
        key = (head, "ethos")
        if key not in cache:
            cache[key] = export(model, "tflite", ExportOptions(
                int8=True, npu="ethos-u55-256", calib=calib, out=tmp / f"{head}_ethos.tflite"),
                log=quiet)
        result = cache[key]
        with SimulatorBackend("tflm", result.path) as b:
            got = b.run(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
            report = dict(b.report)
        if target == "tflm":
            row.update(ops_total=None, ops_on_npu=None, cycles=None,
                       memory_bytes=report["arena_bytes"], arena_bytes=report["arena_bytes"],
                       all_ops_supported=report["all_ops_supported"])
        else:
            v = result.vela
            row.update(ops_total=v.ops_total, ops_on_npu=v.ops_npu, cycles=v.cycles,
                       memory_bytes=int(v.sram_used_kib * 1024), accuracy_through="TFLM")
    else:
        result = export(model, None, ExportOptions(npu=target, calib=calib, out=tmp), log=quiet)
        backend, meta = open_simulated(result.path)
        with backend:
            got = backend.run(x)
        n = result.npu
        row.update(ops_total=n.get("ops_total"), ops_on_npu=n.get("ops_on_npu"),
                   cycles=n.get("cycles"), memory_bytes=n.get("memory_bytes"),
                   npu_ops=n.get("npu_ops"))
    rep = judge(net, faces, got, result.metadata, float("inf"))
    row.update(sim_landmark_px=rep.mean_px, sim_nme_ion=rep.nme_export,
               fp32_nme_ion=rep.nme_torch, nme_change=rep.nme_change)
    return row


def run(args: argparse.Namespace) -> int:
    problem = prepare_outputs({"--json": args.json, "--plot": args.plot})
    if problem:
        print(f"gv-bench npu: error: {problem}", file=sys.stderr)
        return 2
    from gaussian_vector.modelfile.errors import RuntimeFailure
    from gv_export.errors import ExportError

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    rows: list[dict] = []
    cache: dict = {}
    with tempfile.TemporaryDirectory(prefix="gv-bench-npu-") as tmp:
        for head, model in (("gv", args.gv), ("heatmap", args.heatmap)):
            for target in targets:
                print(f"{head} on {target} ...", flush=True)
                try:
                    rows.append(measure(head, model, target, args, Path(tmp), cache))
                except (ExportError, RuntimeFailure, ValueError) as e:
                    print(f"gv-bench npu: {head} on {target}: {e}", file=sys.stderr)
                    rows.append({"head": head, "target": target, "error": str(e)})
                args.json.write_text(json.dumps(rows, indent=2))  # what is done so far
    print_table(rows)
    print(f"wrote {args.json}")
    if args.plot:
        plot(args.plot, rows)
        print(f"wrote {args.plot}")
    return 0 if all("error" not in r for r in rows) else 1


def print_table(rows: list[dict]) -> None:
    """Markdown: one row per head and target."""
    print("\n| head | target | ops on NPU | cycles | memory KiB | sim px | sim NME | fp32 NME "
          "| change |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['head']} | {r['target']} | error: {r['error']} ||||||")
            continue
        ops = (f"{r['ops_on_npu']}/{r['ops_total']}" if r.get("ops_total") is not None
               else ("all supported" if r.get("all_ops_supported") else "-"))
        cycles = f"{r['cycles']:,.0f}" if r.get("cycles") else "-"
        mem = f"{r['memory_bytes'] / 1024:,.0f}" if r.get("memory_bytes") else "-"
        print(f"| {r['head']} | {r['target']} | {ops} | {cycles} | {mem} | "
              f"{r['sim_landmark_px']:.3f} | {100 * r['sim_nme_ion']:.3f}% | "
              f"{100 * r['fp32_nme_ion']:.3f}% | {100 * r['nme_change']:+.2f}% |")


def plot(path: Path, rows: list[dict]) -> None:
    """Two panels: simulated NME against fp32 per target and head; cycles where estimated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if "error" not in r]
    targets = list(dict.fromkeys(r["target"] for r in ok))
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.38
    for i, head in enumerate(("gv", "heatmap")):
        by = {r["target"]: r for r in ok if r["head"] == head}
        pos = np.arange(len(targets)) + (i - 0.5) * width
        a.bar(pos, [100 * by[t]["sim_nme_ion"] if t in by else 0 for t in targets], width,
              label=f"{head} simulated")
        a.scatter(pos, [100 * by[t]["fp32_nme_ion"] if t in by else np.nan for t in targets],
                  color="k", marker="_", s=200, zorder=3,
                  label="fp32 (same faces)" if i == 0 else None)
        b.bar(pos, [(by[t].get("cycles") or 0) / 1e6 if t in by else 0 for t in targets], width,
              label=head)
    for ax, title in ((a, "ION NME (%)"), (b, "estimated cycles (M)")):
        ax.set_xticks(np.arange(len(targets)), targets, rotation=20)
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper center", ncol=3)
    a.set_ylim(min(100 * r["fp32_nme_ion"] for r in ok) * 0.8,
               max(100 * r["sim_nme_ion"] for r in ok) * 1.12)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
