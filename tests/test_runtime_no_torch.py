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


def run_guarded(code: str, also: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    guard = f"import sys\nfor m in {BLOCKED + also!r}:\n    sys.modules[m] = None\n"
    return subprocess.run(
        [sys.executable, "-c", guard + textwrap.dedent(code)], capture_output=True, text=True,
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
        from gaussian_vector.runtime import FacePipeline
        from gaussian_vector.image import load_image
        img = load_image({str(SAMPLES / "takeo.ppm")!r})
        faces = FacePipeline.from_file({str(oracle_onnx)!r}).detect(img)  # bundled detector
        assert len(faces) == 1 and faces[0].landmarks.shape == (5, 2)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = gaussian_vector.cli.infer.main(
                [{str(SAMPLES / "takeo.ppm")!r}, "--model", {str(oracle_onnx)!r}, "--json", "-"])
        assert rc == 0 and len(json.loads(buf.getvalue())["results"][0]["faces"]) == 1
        assert sys.modules.get("torch") is None
        print("ok")
    """
    r = run_guarded(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("ok")


def test_onnx_only_board(oracle_onnx):
    """Only onnxruntime installed: boxes given work; the detector says what it needs."""
    code = f"""
        import numpy as np
        from gaussian_vector.runtime import FacePipeline, InterpreterMissing
        lm = FacePipeline.from_file({str(oracle_onnx)!r})
        img = np.zeros((100, 100, 3), np.uint8)
        assert lm.detect(img, [10, 10, 80, 90])[0].landmarks.shape == (5, 2)
        try:
            lm.detect(img)
        except InterpreterMissing as e:
            print(e)
    """
    r = run_guarded(code, also=("ai_edge_litert", "tflite_runtime"))
    assert r.returncode == 0, r.stderr
    assert "face detector (BlazeFace) runs in LiteRT" in r.stdout
    assert "pip install 'gaussian-vector[tflite]'" in r.stdout and "--box" in r.stdout


def test_tflite_only_board_names_the_onnx_extra(oracle_onnx):
    r = run_guarded(f"""
        from gaussian_vector.runtime import Landmarker
        Landmarker.from_file({str(oracle_onnx)!r})
    """, also=("onnxruntime",))
    assert r.returncode != 0
    assert "pip install 'gaussian-vector[onnx]'" in r.stderr


def test_tflite_runtime_is_the_fallback_interpreter():
    """Where only tflite-runtime is installed (vendor BSPs), its Interpreter is used: simulated by
    serving LiteRT's interpreter module under the tflite_runtime name and blocking LiteRT."""
    r = run_guarded(f"""
        import types
        import numpy as np
        import ai_edge_litert.interpreter as real
        pkg = types.ModuleType("tflite_runtime")
        pkg.interpreter = real
        sys.modules["tflite_runtime"], sys.modules["tflite_runtime.interpreter"] = pkg, real
        sys.modules["ai_edge_litert"] = None
        from gaussian_vector.modelfile.tflite_files import import_litert
        assert import_litert()[0] is real.Interpreter
        from gaussian_vector.detector import BlazeFace
        from gaussian_vector.image import load_image
        boxes, _ = BlazeFace()(load_image({str(SAMPLES / "takeo.ppm")!r}))
        assert len(boxes) == 1
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
