"""External TFLite delegates (VX on i.MX 8M Plus, Ethos-U, Edge TPU, Arm NN), loaded by path.

A delegate that does not exist or fails to load is a `DelegateError` naming the library, unless the
caller asks for CPU fallback, in which case it is one warning and the model runs on the CPU. After
the interpreter is built, `undelegated_ops` says which of the model's ops stayed on the CPU.
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
    partition it handed to a delegate. A partition is convex, so an original op belongs to a
    DELEGATE node exactly when it is downstream of that node's inputs and upstream of its outputs.
    Call it on an interpreter built without the default XNNPACK delegate, or XNNPACK's partitions
    count as delegated too.
    """
    ops = interpreter._get_ops_details()  # the public API has no execution plan; this tells
    original = [o for o in ops if o["op_name"] != "DELEGATE"]
    partitions = [o for o in ops if o["op_name"] == "DELEGATE"]
    producers: dict[int, dict] = {}
    consumers: dict[int, list[dict]] = {}
    for o in original:
        for t in o["outputs"]:
            producers[int(t)] = o
        for t in o["inputs"]:
            consumers.setdefault(int(t), []).append(o)
    covered: set[int] = set()
    for d in partitions:
        down = _closure_down({int(t) for t in d["inputs"]}, consumers)
        up = _closure_up({int(t) for t in d["outputs"]}, producers)
        covered |= down & up
    return [f"{o['op_name']}#{o['index']}" for o in original if o["index"] not in covered]


def _closure_down(tensors: set[int], consumers: dict[int, list[dict]]) -> set[int]:
    """Indices of ops reachable downstream from `tensors`."""
    seen: set[int] = set()
    todo = list(tensors)
    while todo:
        for op in consumers.get(todo.pop(), ()):
            if op["index"] not in seen:
                seen.add(op["index"])
                todo.extend(int(t) for t in op["outputs"])
    return seen


def _closure_up(tensors: set[int], producers: dict[int, dict]) -> set[int]:
    """Indices of ops upstream of `tensors`."""
    seen: set[int] = set()
    todo = list(tensors)
    while todo:
        op = producers.get(todo.pop())
        if op is not None and op["index"] not in seen:
            seen.add(op["index"])
            todo.extend(int(t) for t in op["inputs"] if t >= 0)
    return seen
