"""Checks a cadence definition for mistakes that only show when it runs (``cadence validate``)."""

from __future__ import annotations

import dataclasses
import inspect
from collections import Counter
from typing import Any

from cadence import Cadence, Note

__all__ = ["Finding", "validate"]


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem: ``level`` is "error" or "warning"; ``where`` a node id."""

    level: str
    where: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _accepts(fn: Any, count: int) -> bool:
    """Whether ``fn`` can be called with ``count`` positional arguments (unknown signatures pass)."""
    target = fn.fn if isinstance(fn, Note) else fn
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def validate(cadence: Cadence[Any], *, prefix: str | None = None) -> list[Finding]:
    """Every finding for ``cadence`` and the cadences it contains."""
    tree = cadence.describe()
    findings: list[Finding] = []
    ids: Counter[str] = Counter()
    named: dict[tuple[str, str], list[str]] = {}

    def walk(node: dict[str, Any]) -> None:
        ids[node["id"]] += 1
        for child in node.get("children", []):
            if node["kind"] in ("cadence", "child"):  # measures: a name used twice gets the id name#2
                named.setdefault((node["id"], child["name"]), []).append(child["id"])
            walk(child)

    walk(tree)
    for node_id, count in ids.items():
        if count > 1:
            findings.append(
                Finding(
                    "error", node_id, f"{count} measures share the id {node_id!r}; give each a distinct name"
                )
            )
    for (_, name), same in named.items():
        if len(same) > 1:
            shown = ", ".join(map(repr, same))
            message = f"{len(same)} measures share the name {name!r} (ids {shown}); give each a distinct name"
            findings.append(Finding("error", same[1], message))
    findings.extend(_check(cadence, prefix or tree["id"]))
    return findings


def _check(cadence: Cadence[Any], root: str) -> list[Finding]:
    out: list[Finding] = []
    if not cadence.measures:
        out.append(
            Finding(
                "error", root, f"cadence {cadence.name!r} has no measures; add one with .then(name, note)"
            )
        )
    if cadence.get_score() is None:
        out.append(
            Finding(
                "warning",
                root,
                f"cadence {cadence.name!r} has no score: every run must pass one (run(score))",
            )
        )

    def note(where: str, fn: Any, what: str = "note") -> None:
        if not callable(fn):
            out.append(Finding("error", where, f"{what} {fn!r} is neither a callable nor a Note"))
        elif not _accepts(fn, 1):
            out.append(Finding("error", where, f"{what} {_name(fn)} cannot be called with the score alone"))

    for measure in cadence.measures:
        where = f"{root}/{measure.seg}"
        kind = measure.kind
        if kind == "note":
            note(where, getattr(measure, "task", None))
        elif kind == "sequence":
            for task in getattr(measure, "tasks", ()):
                note(f"{where}/{task.seg}", task.fn)
        elif kind == "sync":
            tasks = getattr(measure, "tasks", ())
            if len(tasks) == 1:
                out.append(
                    Finding("warning", where, f".sync({measure.name!r}) has one task: use .then instead")
                )
            for task in tasks:
                note(f"{where}/{task.seg}", task.fn)
            strategy = getattr(measure, "merge_strategy", None)
            if not _accepts(strategy, 3):
                out.append(
                    Finding(
                        "error",
                        where,
                        f"merge strategy {_name(strategy)} must take (original, snapshots, changes)",
                    )
                )
        elif kind == "split":
            note(where, getattr(measure, "condition", None), "condition")
            for value, tasks in getattr(measure, "branches", {}).items():
                for task in tasks:
                    note(f"{where}/{'true' if value else 'false'}/{task.seg}", task.fn)
        elif kind == "child":
            merge = getattr(measure, "merge", None)
            if not _accepts(merge, 2):
                out.append(
                    Finding("error", where, f"merge {_name(merge)} must take (parent_score, child_score)")
                )
            out.extend(_check(measure.child, where))  # type: ignore[attr-defined]
    return out
