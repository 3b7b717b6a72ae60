"""The board-side runtime (runtime/, detector/, cli/infer.py) imports and runs where torch cannot
be imported: numpy, OpenCV, the native decoder and one interpreter are all it may need."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import runtime_fixtures as rf

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "python" / "gaussian_vector" / "samples"
oracle_onnx = rf.oracle_onnx  # fixture

# any `import torch` (or of a torch-based package) now raises ImportError
BLOCKED = ("torch", "litert_torch", "torchvision", "onnx")
GUARD = f"import sys\nfor m in {BLOCKED!r}:\n    sys.modules[m] = None\n"


def run_guarded(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", GUARD + textwrap.dedent(code)], capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"}, cwd=REPO,
    )


def test_guard_blocks_torch():
    r = run_guarded("import torch")
    assert r.returncode != 0 and "torch" in r.stderr


def test_runtime_detector_and_cli_run_without_torch(oracle_onnx):
    code = f"""
        import json, io, contextlib
        import numpy as np
        import gaussian_vector.runtime, gaussian_vector.detector, gaussian_vector.cli.infer
        from gaussian_vector.runtime import Landmarker
        from gaussian_vector.image import load_image
        img = load_image({str(SAMPLES / "takeo.ppm")!r})
        faces = Landmarker.from_file({str(oracle_onnx)!r}).detect(img)  # bundled detector
        assert len(faces) == 1 and faces[0].landmarks.shape == (5, 2)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = gaussian_vector.cli.infer.main(
                [{str(SAMPLES / "takeo.ppm")!r}, "--model", {str(oracle_onnx)!r}])
        assert rc == 0 and len(json.loads(buf.getvalue())["results"][0]["faces"]) == 1
        assert sys.modules.get("torch") is None
        print("ok")
    """
    r = run_guarded(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("ok")
