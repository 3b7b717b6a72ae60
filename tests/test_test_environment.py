"""The test command keeps to its own environment: `bash tests/run.sh` installs torch and an
editable package, which must never land in the quick start's board-like `.venv` (no torch)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _default_venv(script: str) -> str:
    m = re.search(r"^VENV=\$\{GV_VENV:-([^}]+)\}$", (REPO / script).read_text(), re.M)
    assert m, f"{script} sets no VENV=${{GV_VENV:-...}} default"
    return m.group(1)


def test_run_sh_does_not_use_the_quick_start_venv():
    quick = re.search(r"python3 -m venv (\S+) && ", (REPO / "README.md").read_text())
    assert quick, "README.md lost its quick-start command"
    tests_venv = _default_venv("tests/run.sh")
    assert tests_venv != quick.group(1)
    assert f"`{tests_venv}`" in (REPO / "README.md").read_text()  # the README says where
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert f"{tests_venv}/" in ignored


def test_the_cross_build_takes_pybind11_from_the_tests_venv():
    assert _default_venv("bench/arm/cross_test.sh") == _default_venv("tests/run.sh")
