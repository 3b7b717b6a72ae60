"""Output paths of the gv-* commands, checked before the work: a typo in `--json` must not
cost a finished evaluation or export, nor end it in a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path


def prepare_outputs(files: dict[str, object] | None = None,
                    folders: dict[str, object] | None = None) -> str | None:
    """Create the parents of output `files` and the output `folders` ({option: path}, None
    skipped) and check they are writable. Returns one line naming the option that cannot be
    written, or None when all can."""
    wanted = [(opt, Path(p).parent, Path(p)) for opt, p in (files or {}).items() if p]
    wanted += [(opt, Path(p), None) for opt, p in (folders or {}).items() if p]
    for opt, folder, file in wanted:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return f"{opt} {file or folder}: cannot create the folder {folder} ({e.strerror or e})"
        problem = _cannot_write_in(folder)
        if problem:
            return f"{opt} {file or folder}: cannot write in the folder {folder} ({problem})"
        if file is not None and file.is_dir():
            return f"{opt} {file}: is a folder, not a file"
    return None


def _cannot_write_in(folder: Path) -> str | None:
    """Why no file can be created in `folder`, found by creating (and removing) one: permission
    bits do not tell (root passes os.access on a read-only mount such as /sys)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gv-write-check-"):
            return None
    except OSError as e:
        return e.strerror or str(e)
