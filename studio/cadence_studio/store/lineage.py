"""Lineage: which run a run came from (resumed from, or re-run from one of its notes), and runs as a tree.

A run's row names its ``parent`` (the run it continues), ``forked_at`` (the node id it was re-run from;
``None`` for a resume, which continues the whole run) and the ``relation`` ("resume" or "rerun").
The history keeps only the newest runs, so a parent can be gone: such a run is shown as a root that
says so, never as an error. :func:`tree` orders a listing of runs as a tree for the history's views.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Generic, Literal, Protocol, TypeVar

__all__ = ["RELATIONS", "Lineage", "Relation", "TreeRow", "describe", "origin", "orphan_note", "tree"]

Relation = Literal["resume", "rerun"]
#: The relations a run can have to its parent.
RELATIONS: tuple[Relation, ...] = ("resume", "rerun")


@dataclasses.dataclass(frozen=True)
class Lineage:
    """Where a run comes from: nothing (a fresh run), a resume of ``parent``, or a re-run of it from a note.

    Build it with :meth:`of`, which checks the three fit together and works out the relation.
    """

    parent: int | None = None
    forked_at: str | None = None
    relation: Relation | None = None

    @classmethod
    def of(
        cls, parent: int | None = None, forked_at: str | None = None, relation: Relation | None = None
    ) -> Lineage:
        """The lineage of a run resumed (``forked_at=None``) or re-run from ``forked_at`` of run ``parent``.

        ``relation`` defaults to "rerun" when there is a fork point, else "resume" when there is a parent.

        Raises:
            ValueError: the three do not fit together (the message says how to call it).
        """
        if parent is None:
            if forked_at is not None or relation is not None:
                msg = (
                    f"a run re-run from {forked_at!r} or resumed needs the run it came from: "
                    "pass parent=<its run id>"
                )
                raise ValueError(msg)
            return cls()
        if isinstance(parent, bool) or not isinstance(parent, int) or parent < 1:
            msg = f"parent must be a run id (a positive int, as the history lists it), not {parent!r}"
            raise ValueError(msg)
        if forked_at is not None and (not isinstance(forked_at, str) or not forked_at):
            msg = f"forked_at must be a node id such as 'checkout/charge', not {forked_at!r}"
            raise ValueError(msg)
        if relation is None:
            relation = "rerun" if forked_at is not None else "resume"
        if relation not in RELATIONS:
            msg = f"relation must be one of {', '.join(RELATIONS)}, not {relation!r}"
            raise ValueError(msg)
        if relation == "rerun" and forked_at is None:
            msg = "a re-run starts at a note: pass forked_at=<its node id> (or relation='resume')"
            raise ValueError(msg)
        if relation == "resume" and forked_at is not None:
            msg = f"a resume continues the whole run, it has no fork point: drop forked_at={forked_at!r}"
            raise ValueError(msg)
        return cls(parent, forked_at, relation)


class _Run(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def parent(self) -> int | None: ...

    @property
    def forked_at(self) -> str | None: ...

    @property
    def relation(self) -> str | None: ...

    @property
    def parent_kept(self) -> bool | None: ...


R = TypeVar("R", bound=_Run)


def describe(run: _Run) -> str | None:
    """How ``run`` came from its parent, without the parent's number: "rerun from job/finish", "resumed"."""
    if run.parent is None:
        return None
    if run.relation == "rerun" or run.forked_at is not None:
        return f"rerun from {run.forked_at}" if run.forked_at else "rerun"
    return "resumed"


def origin(run: _Run) -> str | None:
    """How ``run`` came from its parent, with the parent's number, for one run shown alone."""
    if run.parent is None:
        return None
    gone = f" (run #{run.parent} is no longer kept)" if run.parent_kept is False else ""
    if run.relation == "rerun" or run.forked_at is not None:
        at = f" at {run.forked_at}" if run.forked_at else ""
        return f"forked from run #{run.parent}{at}{gone}"
    return f"resumed from run #{run.parent}{gone}"


def orphan_note(run: _Run) -> str:
    """Why a run with a parent is shown as a root of the tree."""
    if run.parent_kept is False:
        return f"(parent #{run.parent} no longer kept)"
    return f"(parent #{run.parent} not listed)"


@dataclasses.dataclass(frozen=True)
class TreeRow(Generic[R]):
    """One run in a tree: ``prefix`` draws the branches (empty for a root), ``orphan`` says why a run
    with a parent is a root (its parent is gone, or not in the listing)."""

    run: R
    depth: int
    prefix: str
    orphan: str | None


def tree(runs: Sequence[R]) -> list[TreeRow[R]]:
    """``runs`` as a tree, each run under its parent, in depth-first order.

    Trees (and the children of a run) come newest first, by their newest run: a re-run of an old run
    comes first, under the run it came from. A run whose parent is not among ``runs`` (gone, or older
    than the listing) is a root that says so. A parent must be an earlier run (a smaller id), so a
    damaged row can never make a cycle.
    """
    by_id = {run.id: run for run in runs}
    children: dict[int, list[R]] = {}
    roots: list[R] = []
    for run in runs:
        parent = run.parent
        if parent is not None and parent in by_id and parent < run.id:
            children.setdefault(parent, []).append(run)
        else:
            roots.append(run)
    newest: dict[int, int] = {}

    def latest(run: R) -> int:
        if run.id not in newest:
            newest[run.id] = max([run.id, *(latest(child) for child in children.get(run.id, []))])
        return newest[run.id]

    rows: list[TreeRow[R]] = []

    def visit(run: R, depth: int, lead: str, last: bool) -> None:
        if depth == 0:
            prefix, below = "", ""
        else:
            prefix = f"{lead}  {'└' if last else '├'} "
            below = f"{lead}  {' ' if last else '│'} "
        orphan = orphan_note(run) if depth == 0 and run.parent is not None else None
        rows.append(TreeRow(run, depth, prefix, orphan))
        kids = sorted(children.get(run.id, []), key=latest, reverse=True)
        for i, child in enumerate(kids):
            visit(child, depth + 1, below, i == len(kids) - 1)

    for root in sorted(roots, key=latest, reverse=True):
        visit(root, 0, "", True)
    return rows
