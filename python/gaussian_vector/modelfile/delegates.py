"""External TFLite delegates (VX on i.MX 8M Plus, Ethos-U, Edge TPU, Arm NN), loaded by path.

A delegate that does not exist or fails to load is a `DelegateError` naming the library, unless the
caller asks for CPU fallback, in which case it is one warning and the model runs on the CPU. After
the interpreter is built, `undelegated_ops` says which of the model's ops stayed on the CPU, and
`coverage` adds how many partitions the delegates took (XNNPACK's included on a default build).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DelegateError


@dataclass(frozen=True)
class DelegateSpec:
    """One external delegate: the shared library and its options (all passed as strings)."""

    library: str
    options: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str | DelegateSpec | tuple) -> DelegateSpec:
        """Accept a DelegateSpec, a (library, options) pair, or 'LIB[:key=value;key=value]'."""
        if isinstance(spec, DelegateSpec):
            return spec
        if isinstance(spec, tuple):
            lib, opts = spec
            return cls(str(lib), {str(k): str(v) for k, v in dict(opts).items()})
        lib, _, rest = str(spec).partition(":")
        opts = {}
        for item in filter(None, rest.split(";")):
            key, sep, value = item.partition("=")
            if not sep:
                raise DelegateError(f"delegate option {item!r} is not key=value (in {spec!r})")
            opts[key.strip()] = value.strip()
        return cls(lib, opts)


def _looks_like_path(library: str) -> bool:
    return "/" in library or library.startswith(".")


def load_delegates(
    specs: Sequence[str | DelegateSpec | tuple], load_delegate, *, cpu_fallback: bool = False
) -> list:
    """Load each delegate with the interpreter package's `load_delegate(library, options)`.

    A missing file or a failing load raises DelegateError naming the library; with `cpu_fallback`
    it warns once per delegate and skips it instead.
    """
    loaded = []
    for raw in specs:
        spec = DelegateSpec.parse(raw)
        try:
            if _looks_like_path(spec.library) and not Path(spec.library).is_file():
                raise DelegateError(f"external delegate library not found: {spec.library}")
            try:
                _check_plugin(spec.library)
                loaded.append(load_delegate(spec.library, dict(spec.options)))
            except (ValueError, OSError, RuntimeError) as e:
                why = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
                raise DelegateError(
                    f"external delegate {spec.library} failed to load: {why}"
                ) from e
        except DelegateError as e:
            if not cpu_fallback:
                raise
            warnings.warn(f"{e}; running on the CPU instead", RuntimeWarning, stacklevel=3)
    return loaded


def _check_plugin(library: str) -> None:
    """OSError unless `library` loads and exports the external delegate entry point. LiteRT's
    own `Delegate` half-builds itself on any other file, and its `__del__` then raises an
    AttributeError that Python can only report as 'Exception ignored' noise."""
    import ctypes

    if not hasattr(ctypes.CDLL(library), "tflite_plugin_create_delegate"):
        raise OSError("not a TFLite external delegate (it has no tflite_plugin_create_delegate)")


def undelegated_ops(interpreter) -> list[str]:
    """Names (with node index) of the model's ops that no delegate took, from the interpreter.

    The interpreter lists the model's original nodes followed by one DELEGATE node per
    partition it handed to a delegate; a tensor a DELEGATE node outputs is computed by it. So
    the execution plan is found by walking back from the graph's outputs: a tensor's producer
    is the DELEGATE node that outputs it, else its original op, which then runs on the CPU. (A
    partition need not be contiguous: XNNPACK groups independent ops from far apart, so
    "between a partition's inputs and outputs" is not a test of membership.)
    Call it on an interpreter built without the default XNNPACK delegate, or XNNPACK's partitions
    count as delegated too.
    """
    ops = interpreter._get_ops_details()  # the public API has no execution plan; this tells
    producer: dict[int, dict] = {}
    for o in sorted(ops, key=lambda o: o["op_name"] == "DELEGATE"):  # DELEGATE nodes win
        for t in o["outputs"]:
            producer[int(t)] = o
    consumed = {int(t) for o in ops if o["op_name"] != "DELEGATE" for t in o["inputs"]}
    roots = {t for t in producer if t not in consumed}
    if hasattr(interpreter, "get_output_details"):
        roots |= {int(d["index"]) for d in interpreter.get_output_details()}
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        op = producer.get(todo.pop())
        if op is not None and op["index"] not in seen:
            seen.add(op["index"])
            todo.extend(int(t) for t in op["inputs"] if t >= 0)
    return [f"{o['op_name']}#{o['index']}" for o in ops
            if o["op_name"] != "DELEGATE" and o["index"] in seen]


@dataclass(frozen=True)
class Coverage:
    """How a built interpreter's delegates split the model: each partition is one delegate
    call, each CPU op runs on LiteRT's built-in kernels between them."""

    ops: int  # the model's ops
    partitions: int
    cpu_ops: tuple[str, ...]  # 'NAME#index' of each op no delegate took

    @property
    def delegated_ops(self) -> int:
        return self.ops - len(self.cpu_ops)

    def summary(self) -> str:
        """'4 partitions, 165/165 ops' plus the CPU ops' names where there are any."""
        line = f"{self.partitions} partition{'s' * (self.partitions != 1)}, " \
               f"{self.delegated_ops}/{self.ops} ops"
        if self.cpu_ops:
            names = sorted({op.split("#")[0] for op in self.cpu_ops})
            line += f"; on the CPU's built-in kernels: {', '.join(names)}"
        return line

    def to_dict(self) -> dict:
        return {"ops": self.ops, "partitions": self.partitions,
                "delegated_ops": self.delegated_ops, "cpu_ops": list(self.cpu_ops)}


def coverage(interpreter) -> Coverage:
    """The delegate coverage of a built interpreter (see `undelegated_ops`): on a default
    LiteRT build with no external delegate, what XNNPACK took."""
    ops = interpreter._get_ops_details()
    partitions = sum(o["op_name"] == "DELEGATE" for o in ops)
    return Coverage(len(ops) - partitions, partitions, tuple(undelegated_ops(interpreter)))
