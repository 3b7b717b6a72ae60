"""The floors of docs/design.md ("Floors: what may import what"), read from the source: every
import, at the top of a module or inside a function, goes down the floors, never up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {
    "gaussian_vector": REPO / "python" / "gaussian_vector",
    "gv_export": REPO / "export" / "gv_export",
    "gv_bench": REPO / "bench" / "gv_bench",
}

# The core's torch part; the numpy part is the rest of gaussian_vector below runtime and cli.
TORCH_PART = ("bpm", "models", "data.dataset", "checkpoint", "train", "evaluate")
MODEL_FILES = ("modelfile",)  # formats, metadata reader, interpreters, delegates, errors
DETECTOR = ("detector",)
RUNTIME = ("runtime",)  # the landmark runtime: Landmarker, FacePipeline
COMMANDS = ("cli",)
CONSOLE = ("console",)  # what the commands of every package share (argtypes, outputs, extras)
NATIVE = ("native",)  # the Python face of the C++ decoder
BINDING = ("_native",)  # the compiled module: only its Python face imports it


def modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    out = {}
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((package, *parts))] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """The dotted names `name` imports, relative imports resolved: `from a import b` gives a and
    a.b (which counts only where it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def floor(name: str) -> str:
    """The floor of a module of the three packages (docs/design.md)."""
    if name.startswith("gv_bench"):
        return "bench"
    if name.startswith("gv_export"):
        return "export"
    rest = name.removeprefix("gaussian_vector").lstrip(".")
    for floor_name, prefixes in (("commands", COMMANDS), ("console", CONSOLE),
                                 ("runtime", RUNTIME), ("detector", DETECTOR),
                                 ("model files", MODEL_FILES), ("torch part", TORCH_PART),
                                 ("native", NATIVE), ("native binding", BINDING)):
        if within(rest, prefixes):
            return floor_name
    return "numpy part" if rest else "package"


#: floor -> the floors it may import besides its own (docs/design.md, the table's last column)
MAY_IMPORT = {
    "package": set(),
    "native binding": set(),
    "native": {"package", "numpy part", "native binding"},
    "numpy part": {"package"},
    "console": {"package", "numpy part"},
    "model files": {"package", "numpy part"},
    "detector": {"package", "numpy part", "model files"},
    "runtime": {"package", "numpy part", "native", "model files", "detector"},
    # evaluate: exported files through the runtime, the detector's boxes; lazily
    "torch part": {"package", "numpy part", "model files", "detector", "runtime"},
    # runtime: gv_export.npu runs the vendor NPUs' simulators (runtime.simulators)
    "export": {"package", "numpy part", "torch part", "model files", "runtime", "console"},
    "bench": {"package", "numpy part", "torch part", "model files", "runtime", "native",
              "export", "console"},
    "commands": {"package", "numpy part", "torch part", "model files", "detector", "runtime",
                 "native", "console"},
}


def test_every_module_has_a_floor_and_the_packages_are_found():
    names = modules()
    assert {"gaussian_vector.runtime.landmarker", "gv_export.exporter", "gv_bench.compare"} <= set(
        names
    )
    assert {floor(n) for n in [*names, "gaussian_vector._native"]} == set(MAY_IMPORT)


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_go_down_the_floors(name):
    known = set(modules()) | {"gaussian_vector._native"}
    mine = floor(name)
    wrong = sorted(
        target
        for target in imported(name, modules()[name]) & known
        if floor(target) != mine and floor(target) not in MAY_IMPORT[mine]
    )
    assert not wrong, f"{name} ({mine}) imports {wrong}: docs/design.md does not allow it"


@pytest.mark.parametrize("name", [n for n in sorted(modules())
                                  if floor(n) in ("model files", "detector", "runtime")])
def test_runtime_imports_no_torch(name):
    assert not {t for t in imported(name, modules()[name]) if t.split(".")[0] == "torch"}
