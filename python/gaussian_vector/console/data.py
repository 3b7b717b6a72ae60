"""Where the commands look for the 300-W data folder when not told (`--data`)."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_root() -> Path:
    """GV_DATA, else ../shared/data beside the repository (it may not exist)."""
    env = os.environ.get("GV_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
