"""torch -> fp32 .tflite through litert-torch (no TensorFlow). The wrapped graph takes NHWC input
so the converter emits no input transpose and the NPU sees its native layout."""

from __future__ import annotations

import contextlib
import io
import logging
import os

import torch

from .errors import ExportError, require


@contextlib.contextmanager
def quiet(enabled: bool = True):
    """Silence the converters' progress lines and C++ log spam (stdout and stderr, fd level)."""
    if not enabled:
        yield
        return
    logging.disable(logging.WARNING)
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(
                io.StringIO()
            ):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.disable(logging.NOTSET)


def to_tflite(wrapper: torch.nn.Module, sample: torch.Tensor, verbose: bool = False) -> bytes:
    """Convert the wrapped model traced on `sample` (1, S, S, 3) to fp32 TFLite bytes."""
    try:
        with quiet(not verbose):
            litert_torch = require("litert_torch", "TFLite export")  # noisy import
            edge = litert_torch.convert(wrapper.eval(), (sample,))
            return bytes(edge.model_content())
    except ExportError:
        raise
    except Exception as e:  # the converter raises many types; the message is what matters
        raise ExportError(f"litert-torch could not convert the model: {type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}") from e
