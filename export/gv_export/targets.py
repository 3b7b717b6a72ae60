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
"""

from __future__ import annotations

from dataclasses import dataclass

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


#: (target, format) -> graph choices. Keys: "cpu-tflite", "cpu-onnx", "ethos-u".
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
}


def target_for(fmt: str, npu: str | None) -> Target:
    """The target a `gv-export --target FMT [--npu ACCEL]` call exports for."""
    if npu is None:
        return TARGETS[f"cpu-{fmt}"]
    if npu.lower().startswith(ETHOS_U_PREFIX):
        return TARGETS["ethos-u"]
    raise ExportError(f"unknown --npu {npu!r}: NPU targets are the Ethos-U configs "
                      "(ethos-u55-256, ethos-u65-256, ...)")


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
