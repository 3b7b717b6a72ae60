"""Draws docs/design.png: the floors of the code (who may import whom) and the three flows
(training, export, on device), each step coloured by the floor that does it.

    .venv/bin/python docs/design_diagram.py            # rewrites docs/design.png

matplotlib only; the layout is written out by hand so the picture changes only when this does.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

OUT = Path(__file__).with_name("design.png")

#: floor -> (fill colour, title, what is in it, the rule it keeps)
FLOORS = {
    "cli": ("#eeeeee", "cli",
            "gv-train, gv-eval, gv-infer (gaussian_vector.cli, with decode_options); gv-export; "
            "gv-bench",
            "thin shells over the floors below"),
    "bench": ("#f6d7c3", "bench  (bench/gv_bench)",
              "compare, pipeline, runners, timing, report; decode (microbenchmark)",
              "imports export (lazily), runtime, core"),
    "export": ("#f3e3a1", "export  (export/gv_export)",
               "wrap, targets, onnx/tflite_export, quantize, calibration, validate, "
               "metadata_io, vela_report",
               "imports core; model files to run what it wrote"),
    "runtime": ("#bfe3c0", "runtime  (no torch)",
                "inputs (crop -> tensor through a table), decoding (by the head; native, "
                "else decode.py), landmarker (a model on given boxes), pipeline (detector, "
                "refine, face-score filter)",
                "imports model files, detector"),
    "detector": ("#d5ecc2", "detector",
                 "BlazeFace in LiteRT: anchors, weighted NMS, the box mapping",
                 "imports model files"),
    "modelfile": ("#e2f2d0", "model files  (modelfile, no torch)",
                  "formats (one table), reader (metadata with no onnx or flatbuffers package), "
                  "interpreters + tflite_files / onnx_files (LiteRT, tflite-runtime, ONNX "
                  "Runtime), delegates, shipped, errors",
                  "numpy part and one interpreter"),
    "torch": ("#c6d8f0", "core, torch part",
              "bpm, models, data.dataset, checkpoint, train, evaluate",
              "torch imported inside these modules only"),
    "console": ("#eeeeee", "console",
                "argtypes, outputs, extras",
                "the commands share it"),
    "base": ("#dcd3ee", "core, numpy part",
             "config, schemes, decode_rules, heads, labels, decode, affine, image, preprocess, "
             "metadata, metrics, data readers/boxes/augment",
             "numpy (OpenCV for images); imports nothing above"),
    "native": ("#f2c4c4", "native decoder  (cpp/)",
               "gv_decode (C++17) -> pybind11 gaussian_vector._native -> gaussian_vector.native",
               "C++ standard library only; same numbers as decode.py"),
}

#: the floors panel: floor -> (x, y, width, height) in a 10 x 12.5 box; the two floors that
#: import nothing of the project at the bottom
PLACES = {
    "cli": (0.0, 11.0, 10.0, 1.3),
    "bench": (0.0, 9.3, 4.6, 1.4),
    "export": (0.0, 7.6, 4.6, 1.4),
    "torch": (0.0, 5.9, 4.6, 1.4),
    "console": (0.0, 4.35, 2.1, 1.35),
    "base": (0.0, 2.3, 4.6, 1.8),
    "runtime": (5.4, 7.8, 2.2, 2.9),
    "detector": (7.8, 7.8, 2.2, 2.9),
    "modelfile": (5.4, 4.8, 4.6, 2.6),
    "native": (5.4, 2.3, 4.6, 2.0),
}

#: "A imports B" (solid), or only inside a function (dashed)
IMPORTS = [
    ("bench", "export", "--"), ("bench", "runtime", "-"),
    ("export", "torch", "-"), ("export", "modelfile", "-"), ("runtime", "detector", "-"),
    ("runtime", "modelfile", "-"), ("detector", "modelfile", "-"), ("modelfile", "base", "-"),
    ("runtime", "native", "--"), ("torch", "base", "-"), ("torch", "modelfile", "--"),
    ("console", "base", "-"),
]

#: the flows: title -> steps as (floor, text)
FLOWS = {
    "training  (gv-train)": [
        ("base", "300-W folders: readers\n1-based .pts -> 0-based"),
        ("base", "box -> one affine crop\n+ augmentation (affine, augment)"),
        ("base", "head.encode: x/y vectors\n(or heatmaps for the baseline)"),
        ("torch", "GVNet: MobileNetV3 + FPN\n+ Band Pooling Module"),
        ("torch", "MSE (AWing weights optional)\nAdam, warm-up + cosine"),
        ("torch", "checkpoint .pt:\nweights + ModelConfig"),
    ],
    "export  (gv-export)": [
        ("torch", "checkpoint .pt\n(path or alias)"),
        ("export", "wrap: BPM in the graph,\nthe target's graph (targets)"),
        ("export", "ONNX / TFLite fp32\nint8: calibrated on faces"),
        ("export", "metadata embedded:\nModelConfig + output layout"),
        ("export", "validated against torch\non real faces (validate)"),
        ("export", "file moved into place\n(+ vela report for an NPU)"),
    ],
    "on device  (gv-infer, FacePipeline)": [
        ("detector", "image; face box given\nor from BlazeFace"),
        ("base", "affine crop from the\nmodel's metadata (preprocess)"),
        ("modelfile", "interpreter (+ delegate)\nLiteRT or ONNX Runtime"),
        ("runtime", "packed x/y vectors\n(N, K, W + H), int8 or fp32"),
        ("native", "native decoder: argmax,\nquarter shift, Beyond Box"),
        ("base", "inverse affine ->\nlandmarks in the image"),
    ],
}


def box(ax, x, y, w, h, colour, title, body, rule=None, size=8.5):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=colour, ec="#555555", lw=0.8))
    if title is None:
        ax.text(x + w / 2, y + h / 2, body, ha="center", va="center", fontsize=size)
        return
    ax.text(x + 0.12, y + h - 0.12, title, ha="left", va="top", fontsize=size + 1,
            fontweight="bold")
    ax.text(x + 0.12, y + h - 0.55, body, ha="left", va="top", fontsize=size - 0.5, wrap=True)
    if rule:
        ax.text(x + 0.12, y + 0.12, rule, ha="left", va="bottom", fontsize=size - 0.5,
                style="italic", color="#333333")


def arrow(ax, start, end, style="-"):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", lw=1.1, color="#333333", linestyle=style,
                                shrinkA=2, shrinkB=2))


def link(a, b):
    """Where an arrow from box `a` to box `b` starts and ends: straight across where the boxes
    share a band of height or width, else from the bottom of `a` to the top of `b`."""
    ax0, ay0, aw, ah = a
    bx0, by0, bw, bh = b
    low, high = max(ay0, by0), min(ay0 + ah, by0 + bh)
    if high > low and (ax0 + aw <= bx0 or bx0 + bw <= ax0):
        y = (low + high) / 2
        return ((ax0 + aw, y), (bx0, y)) if ax0 < bx0 else ((ax0, y), (bx0 + bw, y))
    left, right = max(ax0, bx0), min(ax0 + aw, bx0 + bw)
    x_a = x_b = (left + right) / 2 if right > left else None
    if x_a is None:
        x_a, x_b = ax0 + aw / 2, bx0 + bw / 2
    return (x_a, ay0), (x_b, by0 + bh)


def draw_floors(ax):
    ax.set_title("Floors: A -> B means A may import B", fontsize=12, loc="left")
    for name, (x, y, w, h) in PLACES.items():
        colour, title, body, rule = FLOORS[name]
        # wrap the body by hand to the box width (about 11 characters per unit at this size)
        words, lines, line = body.split(), [], ""
        for word in words:
            if len(line) + len(word) + 1 > int(w * 11):
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        box(ax, x, y, w, h, colour, title, "\n".join(lines), rule)
    for a, b, style in IMPORTS:
        arrow(ax, *link(PLACES[a], PLACES[b]), style)
    ax.text(0.0, 0.3, "dashed: only inside a function (bench exports checkpoints; evaluate "
            "scores exported files\nthrough the runtime; the runtime falls back to decode.py "
            "without the native module).\nNothing in the core or the runtime imports export, "
            "bench or the commands; every floor may import the numpy part.",
            fontsize=8, va="bottom")
    ax.set_xlim(-0.2, 10.2)
    ax.set_ylim(-0.2, 12.5)
    ax.axis("off")


def draw_flows(ax):
    ax.set_title("Flows: each step coloured by the floor that does it", fontsize=12, loc="left")
    width, height, gap = 3.0, 1.25, 0.55
    for col, (title, steps) in enumerate(FLOWS.items()):
        x = col * (width + 0.35)
        ax.text(x + width / 2, 12.2, title, ha="center", va="center", fontsize=10,
                fontweight="bold")
        for i, (floor, text) in enumerate(steps):
            y = 11.4 - (i + 1) * height - i * gap
            box(ax, x, y, width, height, FLOORS[floor][0], None, text)
            if i:
                arrow(ax, (x + width / 2, y + height + gap), (x + width / 2, y + height))
    ax.set_xlim(-0.2, 3 * width + 0.9)
    ax.set_ylim(-0.2, 12.5)
    ax.axis("off")


def main() -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(17, 8.5),
                                      gridspec_kw={"width_ratios": [1, 1]})
    draw_floors(left)
    draw_flows(right)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
