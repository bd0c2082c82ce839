"""Studio errors: one root, a subclass per domain; messages end with the fix."""

from __future__ import annotations

__all__ = ["HistoryError", "LoadError", "ScaffoldError", "StudioError", "TargetError"]


class StudioError(Exception):
    """Root of the studio's errors."""


class TargetError(StudioError):
    """A TARGET (``pkg.module``, ``path/file.py``, optionally ``:name``) is malformed or names nothing."""


class LoadError(StudioError):
    """The user's module could not be imported; ``hint`` says what to do."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ScaffoldError(StudioError):
    """A template could not be rendered: a bad name, a path outside the project, an existing file."""


class HistoryError(StudioError):
    """The run history cannot be read or written; the message says why and what to do."""
