"""Where an exported model will run, and the graph each place runs fastest: ONE table
(`TARGETS`) that `gv-export` looks its choices up in, that the metadata records and that
docs/export.md prints with the measurements behind it.

The same function can be written as different graphs, and the fastest one differs by target
(measured, docs/export.md "Per-target graphs"):

- LiteRT's XNNPACK (the CPU every board has) has no int8 HARD_SWISH: written as one op, all 17
  fall back to the built-in kernel and cut the int8 graph into 21 delegate partitions, so int8
  ran 2x slower than fp32; x * relu6(x + c) / 6 stays in XNNPACK. Its 64-tap depthwise
  convolutions are slow, so the BPM means are MEAN ops there. It has no nearest-neighbour
  resize either (3 ops, 4 partitions): the FPN's x2 upsampling becomes copies (concatenations
  and reshapes), one partition for the whole graph.
- ONNX Runtime's CPU provider runs HardSwish and the depthwise means fastest as they are.
- The Ethos-U (vela) runs a single HARD_SWISH cheaper than its decomposition (+28% cycles),
  lowers MEAN to the same depthwise convolution plus a rescale, and resizes cheaper than it
  copies.
- Rockchip NPUs (rknn-toolkit2) and the Qualcomm HTP (ONNX Runtime's QNN provider) take an
  NCHW ONNX graph, compiled and judged in their vendor's simulator (`gv_export.npu`,
  docs/npu.md); the rk3566 runs the squeeze-excite means and the BPM's band matrix only as an
  average pool and a depthwise filter (else 28 reshapes and transposes stay on its CPU).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gaussian_vector.modelfile.formats import FORMATS

from .errors import ExportError
from .wrap import Graph

#: --npu names that vela compiles (any Ethos-U config: ethos-u55-32 ... ethos-u85-2048)
ETHOS_U_PREFIX = "ethos-u"


@dataclass(frozen=True)
class Target:
    """One place a model runs: which files it takes and the graph for each precision."""

    name: str
    runs_on: str
    formats: tuple[str, ...]
    fp32: Graph | None  # None: the target runs only full-int8 models
    int8: Graph | None  # None: no full-int8 model for this target
    why: str
    toolchain: str | None = None  # a vendor NPU toolchain in its own environment (gv_export.npu)
    options: dict = field(default_factory=dict)  # the toolchain's settings, measured best

    def graph(self, fmt: str, int8: bool) -> Graph:
        """The graph for `fmt` at this precision, or ExportError naming what the target takes."""
        if fmt not in self.formats:
            raise ExportError(f"target {self.name} ({self.runs_on}) takes "
                              f"{' or '.join(self.formats)} models, not {fmt}")
        graph = self.int8 if int8 else self.fp32
        if graph is None:
            need = "--int8" if int8 is False else "fp32 (no --int8)"
            raise ExportError(f"target {self.name} ({self.runs_on}) needs {need}")
        return graph


#: (target, format) -> graph choices. Keys: "cpu-tflite", "cpu-onnx", "ethos-u", and the vendor
#: NPUs by their --npu name (rk3588, rv1106, rk3566, qnn-htp).
TARGETS: dict[str, Target] = {
    "cpu-tflite": Target(
        "cpu", "LiteRT with XNNPACK", ("tflite",),
        fp32=Graph(hardswish="op", means="mean", upsample="copy"),
        int8=Graph(hardswish="relu6", means="mean", upsample="copy"),
        why="XNNPACK: no int8 HARD_SWISH, no RESIZE_NEAREST_NEIGHBOR; 64-tap depthwise "
            "convolutions slow, MEAN fast"),
    "cpu-onnx": Target(
        "cpu", "ONNX Runtime CPU", ("onnx",),
        fp32=Graph(hardswish="op", means="conv"), int8=None,
        why="ONNX Runtime: HardSwish and the depthwise means are its fastest forms"),
    "ethos-u": Target(
        "ethos-u", "Arm Ethos-U NPU (vela)", ("tflite",), fp32=None,
        int8=Graph(hardswish="op", means="conv"),
        why="vela: one HARD_SWISH is cheaper than its decomposition; MEAN lowers to the "
            "depthwise convolution plus a rescale"),
    "rk3588": Target(
        "rk3588", "Rockchip RK3588 NPU (rknn-toolkit2)", ("rknn",), fp32=None,
        int8=Graph(hardswish="op", means="conv", squeeze="pool"),
        why="fewest estimated cycles of the one-choice variants; mmse ranges halve the "
            "landmark error of the default quantiser", toolchain="rknn",
        options={"platform": "rk3588", "quantized_algorithm": "mmse"}),
    "rv1106": Target(
        "rv1106", "Rockchip RV1106 NPU (rknn-toolkit2)", ("rknn",), fp32=None,
        int8=Graph(hardswish="op", means="conv", filter="conv"),
        why="fewest estimated cycles of the one-choice variants; mmse quantiser",
        toolchain="rknn", options={"platform": "rv1106", "quantized_algorithm": "mmse"}),
    "rk3566": Target(
        "rk3566", "Rockchip RK3566/RK3568 NPU (rknn-toolkit2)", ("rknn",), fp32=None,
        int8=Graph(hardswish="op", means="conv", squeeze="pool", filter="conv"),
        why="the only graph with every op on its NPU: the traced SE means and the band "
            "matrix leave 28 reshapes and transposes on the CPU", toolchain="rknn",
        options={"platform": "rk3566", "quantized_algorithm": "mmse"}),
    "qnn-htp": Target(
        "qnn-htp", "Qualcomm Hexagon HTP (ONNX Runtime QNN provider)", ("onnx",), fp32=None,
        int8=Graph(hardswish="op", means="conv"),
        why="QDQ ONNX with 16-bit activations and per-channel 8-bit weights: a tenth of the "
            "8-bit model's landmark error, every node on the HTP", toolchain="qnn",
        options={"activations": "uint16", "weights": "int8", "per_channel": True}),
}

#: --npu names of the vendor NPU targets (gv_export.npu builds them)
VENDOR_NPUS = tuple(name for name, t in TARGETS.items() if t.toolchain)


def target_for(fmt: str | None, npu: str | None) -> Target:
    """The target a `gv-export --target FMT [--npu ACCEL]` call exports for."""
    if npu is None:
        return TARGETS.get(f"cpu-{fmt}") or _cpu_as_is(fmt)
    if npu.lower().startswith(ETHOS_U_PREFIX):
        return TARGETS["ethos-u"]
    if npu.lower() in VENDOR_NPUS:
        return TARGETS[npu.lower()]
    raise ExportError(f"unknown --npu {npu!r}: NPU targets are the Ethos-U configs "
                      f"(ethos-u55-256, ethos-u65-256, ...) and {', '.join(VENDOR_NPUS)}")


def _cpu_as_is(fmt: str) -> Target:
    """The CPU target of a model-file format with no row of its own above: the network as it
    is, in fp32 and (where the format has int8 files) int8, until a measured row replaces it."""
    f = FORMATS[fmt]
    return Target("cpu", f"{f.interpreter} CPU", (fmt,), fp32=Graph(),
                  int8=Graph() if f.int8 else None,
                  why="no per-target graph measured yet: the network as it is")


def override(graph: Graph, spec: str | None) -> Graph:
    """`graph` with 'key=value,...' (from --graph) replacing its choices; ExportError on an
    unknown key or value."""
    if not spec:
        return graph
    choices = graph.to_dict()
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in choices:
            raise ExportError(f"--graph {item!r}: expected key=value with key one of "
                              f"{', '.join(choices)}")
        choices[key.strip()] = value.strip()
    try:
        return Graph(**choices)
    except ValueError as e:
        raise ExportError(f"--graph: {e}") from None
