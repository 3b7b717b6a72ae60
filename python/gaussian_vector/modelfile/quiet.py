"""LiteRT's one INFO line, off the terminal: building the first XNNPACK interpreter of a process
prints `INFO: Created TensorFlow Lite XNNPACK delegate for CPU.` straight to file descriptor 2
from C++, with no Python switch or environment variable to turn it off. Every gv-* run printed
it. `litert_info_filtered` catches fd 2 while an interpreter is built and passes on everything
else it wrote (warnings and errors stay visible)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

#: The lines dropped: LiteRT's notices that the default CPU delegate exists (it always does).
DROPPED = (b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)


@contextmanager
def litert_info_filtered() -> Iterator[None]:
    """Run the block with fd 2 going to a temporary file, then write what it caught back to
    fd 2 less the DROPPED lines. Where stderr is no real file (captured by Python code), does
    nothing."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().splitlines(keepends=True)
                    if not line.rstrip().startswith(DROPPED)]
            if kept:
                os.write(fd, b"".join(kept))
