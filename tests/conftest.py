"""Shared fixtures: the repository root and the 300-W data folder (GV_DATA, default ../shared/data).

Data-dependent tests skip with a reason when the folder is absent (a user's fresh clone); CI sets
GV_DATA so they run there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_root_path() -> Path:
    return Path(os.environ.get("GV_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = data_root_path()
    if not (root / "300w").is_dir():
        pytest.skip(f"300-W data not found at {root} (set GV_DATA to the data folder)")
    return root


@pytest.fixture(scope="session")
def small_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Random-weight GV and heatmap checkpoints (64 px, width 0.5, K = 68), made once."""
    from export_fixtures import make_checkpoints

    return make_checkpoints(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(scope="session")
def small_exports(small_checkpoints, tmp_path_factory):
    """get(head, target, int8=False) -> export Result; each file is converted once per session
    and shared by the export, runtime and bench suites (conversions are the slow part)."""
    from export_fixtures import export_cache

    return export_cache(small_checkpoints, tmp_path_factory.mktemp("exported"))
