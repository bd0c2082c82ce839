"""Which note wrote which score field, in order, read from a run's events (live or recorded).

Every note's ``note_started`` and ``note_finished`` events carry the score it ran on (a value tree), so
what a note wrote is the difference between the two. Three kinds of step write a score:

- a note (``how="note"``): inside a ``.sync`` it writes its own copy of the score;
- a ``.sync`` group's merge (``how="merge"``): listed only for the fields the merge set to something
  no member wrote (a conflict combined by the strategy, say), so a member's write is not listed twice;
- a ``.child`` (``how="child"``): its merge function writes the parent's score from the child's.

Notes inside a ``.child`` run on the child's own score (another type): their writes belong to that
child's *scope* (its node id), the run's own score to the scope ``""``. :class:`FieldWrites` is fed
event by event (:meth:`FieldWrites.feed`), so a paused run has the writes made so far.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .value_trees import Node, diff_trees, join_path, split_path

__all__ = ["FieldWrite", "FieldWrites", "Step", "value_at"]

#: How a value absent on one side of a write is shown.
ABSENT = "—"


@dataclasses.dataclass(frozen=True)
class FieldWrite:
    """One change of one field: by ``node_id`` (a note, a group's merge, a child's merge), old → new."""

    node_id: str
    path: str
    old: str
    new: str
    how: str = "note"
    #: inside a container, what changed: (path under it, "added" | "removed" | "changed", old, new)
    parts: tuple[tuple[str, str, str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["parts"] = [dict(zip(("path", "mark", "old", "new"), part, strict=True)) for part in self.parts]
        return out

    def summary(self, limit: int = 3) -> str | None:
        """Its changes inside a container, shortly (``+2: 'pen'; ~0.qty: 1 → 2``); None for a plain value."""
        if not self.parts:
            return None
        signs = {"added": "+", "removed": "-", "changed": "~"}
        shown = []
        for where, mark, old, new in self.parts[:limit]:
            if mark == "changed":
                shown.append(f"~{where}: {_cut(old)} → {_cut(new)}")
            else:
                shown.append(f"{signs[mark]}{where}: {_cut(new if mark == 'added' else old)}")
        more = len(self.parts) - limit
        return "; ".join(shown) + (f"; … {more} more" if more > 0 else "")


class Step:
    """A step that may have changed a score: who, in which scope, the score before and after.

    What differs (:attr:`marks`) is worked out when first asked for, not while the run goes on: a
    run's events are taken in at the pace they come, and most fields are never traced.
    """

    __slots__ = ("_marks", "after", "before", "how", "node_id", "scope")

    def __init__(
        self,
        node_id: str,
        scope: str,
        how: str,
        before: Node,
        after: Node,
        marks: dict[str, str] | None = None,
    ) -> None:
        self.node_id, self.scope, self.how = node_id, scope, how
        self.before, self.after = before, after
        self._marks = marks

    @property
    def marks(self) -> dict[str, str]:
        """``{path: "added" | "removed" | "changed"}`` between its scores (see :func:`diff_trees`)."""
        if self._marks is None:
            self._marks = diff_trees(self.before, self.after)
        return self._marks

    def fields(self) -> list[str]:
        """The top-level fields it changed, in the score's order (then removed ones)."""
        names = [key for key, _ in self.after.get("c") or ()]
        names += [key for key, _ in self.before.get("c") or () if key not in names]
        return [name for name in names if join_path([name]) in self.marks]

    def write(self, path: str) -> FieldWrite | None:
        """Its change of ``path`` (a :func:`join_path` string), if it made one."""
        keys = split_path(path)
        if not _touches(self.marks, keys):
            return None
        return FieldWrite(
            self.node_id,
            path,
            _shown(value_at(self.before, keys)),
            _shown(value_at(self.after, keys)),
            self.how,
            self._parts(path),
        )

    def _parts(self, path: str) -> tuple[tuple[str, str, str, str], ...]:
        """The innermost changes under ``path`` (a container's own "changed" is left out)."""
        under = f"{path}." if path else ""
        inner = sorted((p for p in self.marks if p.startswith(under) and p != path), key=_natural)
        parts = []
        for part in inner:
            if self.marks[part] == "changed" and any(q.startswith(f"{part}.") for q in inner):
                continue
            keys = split_path(part)
            old, new = _shown(value_at(self.before, keys)), _shown(value_at(self.after, keys))
            parts.append((part[len(under) :], self.marks[part], old, new))
        return tuple(parts)


class FieldWrites:
    """The steps of one run that may have changed a score, in the order they ended."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._by_node: dict[str, list[Step]] = {}  # a node id -> its steps
        self._in_group: dict[str, list[Step]] = {}  # a .sync group -> its members' steps (nested too)
        self._children: list[str] = []  # the .child nodes entered
        self._tasks: dict[str, str] = {}  # a .sync member's node id -> its group's
        self._current: dict[str, Node] = {}  # lane (see _lane) -> the newest score known in it
        self._before: dict[str, Node] = {}  # a note's (or child's) node id -> the score it started on
        self._forked: dict[str, Node] = {}  # a group's node id -> the score its members were copied from
        self._first: dict[str, Node] = {}  # scope -> the score it began with

    def feed(self, event: dict[str, Any], score: Any) -> None:
        """Take one event in (``Event.as_dict()``) with the score the worker sent with it."""
        kind = event.get("kind")
        node = str(event.get("node_id") or "")
        tree = score if isinstance(score, dict) else None
        if kind == "child_entered":
            self._children.append(node)
            lane = self._lane(node)
            if lane in self._current:
                self._before[node] = self._current[lane]
            return
        if tree is None:
            return
        if kind == "run_started":  # a child's run starts on the child's score: its node is the child's
            scope = node if int(event.get("depth") or 0) > 0 else ""
            self._current[scope] = tree
            self._first.setdefault(scope, tree)
        elif kind == "note_started":
            self._before[node] = tree
        elif kind == "note_finished":
            self._ended(node, "note", tree)
        elif kind == "forked":
            self._forked[node] = tree
            for task in event.get("tasks") or ():
                self._tasks[str(task)] = node
                self._current[str(task)] = tree
        elif kind == "merged":
            self._merged(node, tree, event)
        elif kind == "child_left":
            self._ended(node, "child", tree)

    def _ended(self, node: str, how: str, after: Node) -> None:
        lane = self._lane(node)
        before = self._before.pop(node, None)
        if before is None:
            before = self._current.get(lane)
        self._current[lane] = after
        if before is not None and before is not after:
            self._add(Step(node, self.scope_of(node), how, before, after), lane)

    def _merged(self, group: str, merged: Node, event: dict[str, Any]) -> None:
        lane = self._lane(group)
        forked = self._forked.pop(group, None) or self._current.get(lane)
        self._current[lane] = merged
        if forked is None or event.get("error"):
            return
        conflicts = {str(name) for name in event.get("conflicts") or {}}
        members = self._in_group.pop(group, [])
        marks: dict[str, str] = {}
        for path, mark in diff_trees(forked, merged).items():
            keys = split_path(path)
            if keys and keys[0] in conflicts:
                marks[path] = mark
                continue
            now = _shown(value_at(merged, keys))
            last = [w for w in (s.write(path) for s in members) if w is not None]
            if not last or last[-1].new != now:
                marks[path] = mark
        if marks:
            self._add(Step(group, self.scope_of(group), "merge", forked, merged, marks), lane)

    def _add(self, step: Step, lane: str) -> None:
        """Keep ``step``, under its node and under every ``.sync`` group whose copy (``lane``) it wrote."""
        self.steps.append(step)
        self._by_node.setdefault(step.node_id, []).append(step)
        while lane in self._tasks:
            group = self._tasks[lane]
            self._in_group.setdefault(group, []).append(step)
            lane = self._lane(group)

    def scope_of(self, node: str) -> str:
        """The score ``node`` runs on: the innermost ``.child`` holding it, or ``""`` (the run's own)."""
        inside = [c for c in self._children if node.startswith(f"{c}/")]
        return max(inside, key=len, default="")

    def _lane(self, node: str) -> str:
        """Which copy of a score ``node`` works on: its scope's, or a ``.sync`` member's own copy."""
        holders = [c for c in self._children if node.startswith(f"{c}/")]
        holders += [t for t in self._tasks if node == t or node.startswith(f"{t}/")]
        return max(holders, key=len, default="")

    def scopes(self) -> list[str]:
        """The scores seen so far: ``""`` (the run's own), then each ``.child``'s node id."""
        return list(self._first)

    def initial(self, scope: str = "") -> Node | None:
        """The score of ``scope`` when it began (``None`` before its run started)."""
        return self._first.get(scope)

    def latest(self, scope: str = "") -> Node | None:
        """The newest score of ``scope`` known (after its last note so far)."""
        return self._current.get(scope)

    def provenance(self, path: str, scope: str = "") -> list[FieldWrite]:
        """Every change of ``path`` in the score of ``scope``, in the order the steps ended."""
        out = []
        for step in self.steps:
            if step.scope == scope:
                write = step.write(path)
                if write is not None:
                    out.append(write)
        return out

    def written_by(self, node: str) -> dict[str, FieldWrite]:
        """The top-level fields ``node`` changed (its note, or its group's merge), old → new."""
        out: dict[str, FieldWrite] = {}
        for step in self._by_node.get(node, ()):
            for name in step.fields():
                write = step.write(join_path([name]))
                if write is not None:
                    first = out.get(name)
                    out[name] = write if first is None else dataclasses.replace(write, old=first.old)
        return out


def value_at(tree: Node | None, keys: list[str]) -> Node | None:
    """The node at ``keys`` in a value tree (``None`` when it is not there)."""
    node = tree
    for key in keys:
        if node is None:
            return None
        node = next((child for name, child in node.get("c") or () if name == key), None)
    return node


def _touches(marks: dict[str, str], keys: list[str]) -> bool:
    """Whether a step's differences change the value at ``keys``: it, or a part of it, or a whole
    container holding it that was added or removed."""
    if join_path(keys) in marks:
        return True
    return any(marks.get(join_path(keys[:n])) in ("added", "removed") for n in range(1, len(keys)))


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _natural(path: str) -> list[tuple[int, int | str]]:
    """A path's sort key: list indexes in number order (2 before 10)."""
    return [(0, int(key)) if key.isdigit() else (1, key) for key in split_path(path)]


def _shown(node: Node | None) -> str:
    return ABSENT if node is None else str(node.get("r", ""))
