"""The board-side modules import and run where torch cannot be imported."""

import subprocess
import sys
import textwrap

BOARD_MODULES = [
    "gaussian_vector",
    "gaussian_vector.decode",
    "gaussian_vector.labels",
    "gaussian_vector.affine",
    "gaussian_vector.config",
    "gaussian_vector.metadata",
    "gaussian_vector.preprocess",
    "gaussian_vector.image",
]


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    guard = "import sys; sys.modules['torch'] = None\n"  # any `import torch` now raises
    return subprocess.run(
        [sys.executable, "-c", guard + textwrap.dedent(code)], capture_output=True, text=True
    )


def test_guard_really_blocks_torch():
    r = run_without_torch("import torch")
    assert r.returncode != 0 and "torch" in r.stderr


def test_board_modules_import_and_decode_without_torch():
    code = f"""
        import importlib, numpy as np
        for name in {BOARD_MODULES!r}:
            importlib.import_module(name)
        from gaussian_vector.labels import VectorLabel
        lab = VectorLabel()
        xy, _ = lab.decode(*lab.encode(np.array([[10.3, 50.8]])))
        assert abs(xy[0, 0] - 10.3) <= 0.25 and abs(xy[0, 1] - 50.8) <= 0.25
        print("ok")
    """
    r = run_without_torch(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
