"""The runtime's errors: one class per thing a user can get wrong, each with a message that names
the file, library or box at fault, so the CLI can print it as one line and carry on."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """Base of every error the on-device runtime raises on purpose."""


class ModelError(RuntimeFailure, ValueError):
    """A model file that cannot be used: missing, unreadable, or without our metadata."""


class DelegateError(RuntimeFailure, RuntimeError):
    """An external delegate library that does not exist or fails to load (names the path)."""


class InterpreterMissing(RuntimeFailure, ImportError):
    """No interpreter package for the model's format is installed (names the extra)."""


class NoFaceError(RuntimeFailure, LookupError):
    """The face detector found no face in an image."""


class BoxError(RuntimeFailure, ValueError):
    """A face box that is malformed or lies outside the image."""


class NotAFaceError(RuntimeFailure, ValueError):
    """A given face box whose landmarks score below the model's minimum: no face there, or one
    the model cannot read (its landmarks would be a silent wrong answer)."""
