"""Which pip extra installs which optional package, so that a command run without one says in
one line what to install instead of ending in a traceback.

The quick-start install (`pip install ".[tflite]"`) has no torch: every command's `--help` must
work there, and a command (or an option) that needs torch must name the extra before it works.
Commands check up front with `need`; `one_line_errors` is the net for an import that no check
foresaw (and turns Ctrl-C into one line).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable

#: Top-level module -> the extra of pyproject.toml that installs it.
EXTRA_OF = {
    "torch": "train",
    "matplotlib": "train",
    "cv2": "runtime",
    "tqdm": "runtime",
    "ai_edge_litert": "tflite",
    "onnxruntime": "onnx",
    "litert_torch": "export",
    "ai_edge_quantizer": "export",
    "onnx": "export",
    "onnxscript": "export",
    "rich": "bench",
    "ethosu": "npu",
}


def install_hint(module: str, extra: str | None = None) -> str:
    """The pip command that installs `module`: its extra (or `extra`), torch's pinned wheel
    first as the README says (a looser spec pulls GBs of CUDA wheels), matplotlib alone."""
    top = module.split(".")[0]
    if top == "matplotlib" and extra is None:
        return "pip install matplotlib"
    extra = extra or EXTRA_OF.get(top, "test")
    first = "pip install torch==2.13.0, then " if top == "torch" else ""
    return f"{first}pip install 'gaussian-vector[{extra}]'"


def installed(module: str) -> bool:
    """Whether `module` can be imported, found without importing it (torch takes seconds)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def need(purpose: str, *modules: str, extra: str | None = None) -> str | None:
    """None when every module is installed, else one line: what `purpose` needs and how to
    install it (`extra` when the purpose needs more of it than the module's own extra)."""
    for module in modules:
        if not installed(module):
            return f"{purpose} needs {module} (not installed): {install_hint(module, extra)}"
    return None


def one_line_errors(prog: str, status: int = 2,
                    interrupted: str = "") -> Callable[[Callable], Callable]:
    """Decorate a command's `main(argv)`: an optional package missing at run time ends in
    `PROG: error: ...` naming its extra and `status`, and Ctrl-C in `PROG: interrupted` plus
    `interrupted` (what was kept, how to go on) and 130, the shell's code for it; neither is
    a traceback. Other errors pass."""

    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            try:
                return main(argv)
            except KeyboardInterrupt:
                print(f"{prog}: interrupted{interrupted}", file=sys.stderr)
                return 130
            except ImportError as e:
                top = (getattr(e, "name", None) or "").split(".")[0]
                if isinstance(e, ModuleNotFoundError) and top in EXTRA_OF:
                    line = f"{top} is not installed: {install_hint(top)}"
                elif "pip install" in str(e):  # the runtime's InterpreterMissing says it already
                    line = str(e).splitlines()[0]
                else:
                    raise
                print(f"{prog}: error: {line}", file=sys.stderr)
                return status

        return run

    return wrap
