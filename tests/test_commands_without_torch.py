"""The quick-start install has no torch (`pip install ".[tflite]"`): every command's --help works
there, and a command or option that needs torch (or matplotlib) says in one line which extra to
install, before it reads any data, instead of ending in a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "python" / "gaussian_vector" / "samples"
#: where each command's main lives
MAINS = {
    "gv-train": "gaussian_vector.cli.train",
    "gv-eval": "gaussian_vector.cli.evaluate",
    "gv-infer": "gaussian_vector.cli.infer",
    "gv-export": "gv_export.cli",
    "gv-bench": "gv_bench.cli",
}


def run_without(blocked: tuple[str, ...], command: str, *argv: str) -> subprocess.CompletedProcess:
    """`command argv...` in a fresh interpreter in which `blocked` modules cannot be imported."""
    code = f"""
        import sys
        for m in {blocked!r}:
            sys.modules[m] = None
        from {MAINS[command]} import main
        sys.exit(main({list(argv)!r}))
    """
    path = ":".join(str(REPO / d) for d in ("python", "export", "bench"))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=REPO, env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("command", [*MAINS, "gv-bench decode"])
def test_every_help_works_without_torch(command):
    name, *sub = command.split()
    r = run_without(("torch",), name, *sub, "--help")
    assert r.returncode == 0 and "usage:" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("command, argv, install", [
    ("gv-train", ["--out", "{tmp}/run", "--data", "{tmp}"], "gaussian-vector[train]"),
    ("gv-eval", ["--model", "default", "--data", str(SAMPLES)], "gaussian-vector[train]"),
    ("gv-eval", ["--model", "default.tflite", "--data", str(SAMPLES), "--plot", "{tmp}/c.png"],
     "pip install matplotlib"),
    ("gv-export", ["default", "--target", "tflite"], "gaussian-vector[export]"),
    ("gv-bench", ["--no-npu"], "gaussian-vector[export]"),
])
def test_a_command_that_needs_torch_names_the_extra_in_one_line(command, argv, install,
                                                                 tmp_path):
    (tmp_path / "300w").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    r = run_without(("torch", "matplotlib"), command, *argv)
    assert r.returncode in (1, 2), r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"{command}: error: ") and install in line, line


def test_an_unforeseen_missing_package_is_one_line_and_other_errors_pass(capsys):
    from gaussian_vector.console.extras import one_line_errors

    def missing(name: str):
        @one_line_errors("gv-x")
        def main(argv=None) -> int:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return main

    assert missing("cv2")() == 2
    assert capsys.readouterr().err == ("gv-x: error: cv2 is not installed: "
                                       "pip install 'gaussian-vector[runtime]'\n")
    with pytest.raises(ModuleNotFoundError):  # not an optional package of ours: a real bug
        missing("gaussian_vector.nope")()


def test_the_shipped_exports_are_evaluated_without_torch(tmp_path):
    """gv-eval --model default-int8 (gv-infer's name for the shipped int8 file) was taken for
    a checkpoint: 'model file not found', or 'needs torch' on the quick-start install."""
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    r = run_without(("torch",), "gv-eval", "--model", "default-int8", "--data", str(SAMPLES))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("default-int8: n=2 ION "), r.stdout


def test_ctrl_c_in_any_command_is_one_line_and_status_130(capsys):
    from gaussian_vector.console.extras import one_line_errors

    @one_line_errors("gv-x", interrupted=": what was kept")
    def main(argv=None) -> int:
        raise KeyboardInterrupt

    assert main() == 130
    assert capsys.readouterr().err == "gv-x: interrupted: what was kept\n"


@pytest.mark.parametrize("command", ["gv-train", "gv-eval", "gv-bench"])
def test_the_commands_stop_on_ctrl_c_without_a_traceback(command, monkeypatch, capsys):
    """Interrupting the work (here: the first thing each command does after parsing)."""
    import importlib

    module = importlib.import_module(MAINS[command])
    if command == "gv-bench":
        module = importlib.import_module("gv_bench.compare")
        monkeypatch.setattr(module, "run", _interrupt)
        argv = []
    elif command == "gv-eval":
        monkeypatch.setattr(module, "missing_packages", _interrupt)
        argv = ["--model", "default", "--data", "."]
    else:
        monkeypatch.setattr(module, "need", _interrupt)
        argv = ["--out", "run"]
    assert module.main(argv) == 130
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{command}: interrupted"), line


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt
