"""Data breakpoints on the wire: a watch on a score field, or on a Python expression over the score.

The worker evaluates them after each note (see :mod:`cadence_studio.worker.watching`); the UI and the
command line only name them. :func:`watch_problem` checks one without running anything (an expression
is compiled, never evaluated), so a broken one is refused at once, before any run.
"""

from __future__ import annotations

import ast
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Watch", "WatchHit", "compile_watch", "normalised", "watch_problem"]


class Watch(BaseModel):
    """``field``: pause when a note changes the score field ``text`` (``total``, or ``address.city``).
    ``expr``: pause when the expression ``text`` over ``score`` turns true after a note."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["field", "expr"]
    text: str

    def label(self) -> str:
        """How it reads: ``score.total`` changes, or ``when score.total > 10``."""
        return f"score.{self.text}" if self.kind == "field" else f"when {self.text}"


class WatchHit(BaseModel):
    """Why a run paused after a note: the watch, the note that wrote (``node_id``), and old → new
    (short reprs: the field's values, or the expression's ``False`` → ``True``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    watch: Watch
    node_id: str
    old: str
    new: str

    def line(self) -> str:
        if self.watch.kind == "field":
            return f"{self.watch.label()}: {self.old} → {self.new} (written by {self.node_id})"
        return f"{self.watch.text} became true after {self.node_id}"


def compile_watch(watch: Watch) -> object:
    """The code of an ``expr`` watch (raises ``SyntaxError``); None for a ``field`` watch."""
    if watch.kind == "field":
        return None
    return compile(watch.text, "<watch>", "eval")


def watch_problem(watch: Watch) -> str | None:
    """What is wrong with ``watch`` as written, with the fix; None when it is fine."""
    text = watch.text.strip()
    if watch.kind == "field":
        parts = text.removeprefix("score.").split(".")
        if not text or not all(part.isidentifier() for part in parts):
            return f"{watch.text!r} is not a score field; give a field name like 'total' or 'address.city'"
        return None
    if not text:
        return "the expression is empty; give a Python expression over the score, e.g. 'score.total > 10000'"
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        return (
            f"{watch.text!r} is not a Python expression ({error.msg}{where}); "
            "write one over `score`, e.g. 'score.total > 10000'"
        )
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if "score" not in names:
        return (
            f"{watch.text!r} never reads `score`, so it can never change; "
            "write it over the score, e.g. 'score.total > 10000'"
        )
    return None


def normalised(watch: Watch) -> Watch:
    """``score.total`` and ``total`` are the same field watch."""
    if watch.kind == "field":
        return Watch(kind="field", text=watch.text.strip().removeprefix("score."))
    return Watch(kind="expr", text=watch.text.strip())
