"""The user's errors as the UI shows them: located in the user's code, the machinery's frames left out."""

from __future__ import annotations

import asyncio
import importlib
import traceback
from pathlib import Path

import cadence

from .. import protocol as p

__all__ = ["USER_ERRORS", "error_info"]

#: What the user's code may raise without ending the worker (``sys.exit()`` fails a note instead).
USER_ERRORS = (Exception, SystemExit, KeyboardInterrupt)

_ENGINE_DIR = str(Path(cadence.__file__).resolve().parent)
_SKIP_DIRS = (
    _ENGINE_DIR,
    str(Path(asyncio.__file__).parent),
    str(Path(importlib.__file__).parent),
    str(Path(__file__).resolve().parents[1]),  # all of cadence_studio
)


def error_info(error: BaseException) -> p.ErrorInfo:
    """An exception as shown to the user, located at the deepest frame of the user's code."""
    cause: BaseException = getattr(error, "original_error", None) or error
    frames = traceback.extract_tb(cause.__traceback__)
    user = [f for f in frames if not f.filename.startswith(_SKIP_DIRS)]
    where = user[-1] if user else (frames[-1] if frames else None)
    file: str | None
    line: int | None
    if isinstance(cause, SyntaxError) and cause.filename:
        file, line = cause.filename, cause.lineno
    else:
        file, line = (where.filename, where.lineno) if where else (None, None)
    code = getattr(error, "code", None)
    return p.ErrorInfo(
        type=type(error).__qualname__,
        message=str(error),
        traceback=_user_traceback(cause),
        code=code if isinstance(code, str) else None,
        file=file,
        line=line,
    )


def _user_traceback(error: BaseException) -> str:
    """The traceback without the engine's, the studio's, asyncio's and importlib's frames."""
    shown = traceback.TracebackException.from_exception(error)
    for exc in _chain(shown):
        kept = [
            f
            for f in exc.stack
            if not f.filename.startswith(_SKIP_DIRS) and not f.filename.startswith("<frozen")
        ]
        exc.stack = traceback.StackSummary.from_list(kept)
    return "".join(shown.format())


def _chain(exc: traceback.TracebackException) -> list[traceback.TracebackException]:
    out, seen = [], set()
    current: traceback.TracebackException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out
