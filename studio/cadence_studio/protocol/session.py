"""What the studio knows, built only from worker messages: the catalog, breakpoints and runs.

Pure state (no Textual): the screen feeds every message to :meth:`Session.apply` and redraws
the parts it reports as changed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cadence.diagram import format_duration

from . import messages as p
from .field_writes import FieldWrites
from .spans import Spans
from .watches import Watch, WatchHit

__all__ = [
    "MergeView",
    "NodeState",
    "RunRecord",
    "Session",
    "default_choice",
    "share_subtrees",
    "status_style",
]


@dataclasses.dataclass
class NodeState:
    """A graph node during a run."""

    status: str = "pending"
    duration: float | None = None
    error: dict[str, Any] | None = None
    attempts: list[str] = dataclasses.field(default_factory=list)  # retry messages, in order
    notes: list[str] = dataclasses.field(default_factory=list)  # timeouts, fallbacks, circuit changes
    fell_back: bool = False  # its @fallback replaced a failure
    skip_reason: str | None = None  # what the note gave Skip
    stalled: float = 0.0  # seconds it held the worker's event loop (over the run's threshold)

    def as_status(self) -> dict[str, Any]:
        """Its entry in the statuses the graph and the diagrams draw (see ``cadence.diagram.run_marks``)."""
        out: dict[str, Any] = {"status": self.status}
        if self.duration is not None:
            out["duration"] = self.duration
        if self.attempts:  # one retry event per failed attempt, then the attempt that ended it
            out["attempts"] = len(self.attempts) + 1
        if self.fell_back:
            out["fallback"] = True
        if self.stalled:
            out["stalled"] = self.stalled
        return out


@dataclasses.dataclass
class MergeView:
    """A ``.sync`` group: each copy's changes and score by the task's node id, the merged score, conflicts.

    Keyed by node id, never by position in arrival order: a member held at a breakpoint ends after
    its siblings, and its changes must still be its own.
    """

    tasks: list[str]  # the copies' node ids, in declaration order
    snapshots: dict[str, Any]  # node id -> the copy's score after its task
    changes: dict[str, dict[str, Any]]  # node id -> the fields its task changed
    conflicts: dict[str, Any]
    merged: Any
    strategy: str
    error: dict[str, Any] | None


@dataclasses.dataclass
class RunRecord:
    """One run, as the events told it."""

    number: int
    entry: str
    status: str = "running"
    nodes: dict[str, NodeState] = dataclasses.field(default_factory=dict)
    before: dict[str, Any] = dataclasses.field(default_factory=dict)  # score when a note started
    after: dict[str, Any] = dataclasses.field(default_factory=dict)  # score when it ended
    finished_order: list[str] = dataclasses.field(default_factory=list)
    merges: dict[str, MergeView] = dataclasses.field(default_factory=dict)
    forks: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # group -> its tasks' node ids
    branches: dict[str, tuple[Any, str]] = dataclasses.field(default_factory=dict)
    timeline: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (style, text, node)
    spans: Spans = dataclasses.field(default_factory=Spans)  # the Gantt chart's rows
    paused_at: str | None = None
    current: str | None = None  # the note that started last (the status line's "where it is")
    held: list[str] = dataclasses.field(default_factory=list)
    paused_score: Any = None
    watch_hit: WatchHit | None = None  # paused right after a note by a data breakpoint
    also_hit: list[WatchHit] = dataclasses.field(default_factory=list)  # more watches that note hit
    score: Any = None  # the latest score seen
    error: p.ErrorInfo | None = None
    skip_reason: str | None = None  # why a note ended the run with Skip
    duration: float = 0.0
    graph: dict[str, Any] | None = None  # the graph it ran on, for a run opened from history
    recorded: str | None = None  # "history #12 (11-22 17:13:05)" for a run opened from history
    writes: FieldWrites = dataclasses.field(default_factory=FieldWrites)  # which note wrote which field
    # Each node's entry in statuses(), made again only for the nodes handed out by node() since the
    # last call: a redraw during a 10,000-note run asks for them all (issue 18).
    _shown: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    _touched: set[str] = dataclasses.field(default_factory=set, repr=False, compare=False)

    def node(self, node_id: str) -> NodeState:
        """The node's state, to read or change (its status is made again at the next statuses())."""
        self._touched.add(node_id)
        state = self.nodes.get(node_id)
        if state is None:
            state = self.nodes[node_id] = NodeState()
        return state

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Node id -> what the graph draws for it; a node left unchanged keeps the same dict object."""
        shown = self._shown
        for node in self._touched:
            shown[node] = self.nodes[node].as_status()
        self._touched.clear()
        out = dict(shown)
        for node in self.held:
            if self.watch_hit is None or node != self.paused_at:  # held after a note: it is done
                out[node] = {"status": "paused"}
        return out

    def mark_reused(self, node_ids: list[str] | tuple[str, ...]) -> None:
        """Show measures taken from the parent run (not run again) as reused, with what they hold."""
        if not node_ids:
            return
        inside = tuple(f"{node}/" for node in node_ids)
        for node in [*node_ids, *(n for n in _graph_ids(self.graph) if n.startswith(inside))]:
            self.node(node).status = "reused"

    @property
    def finished(self) -> bool:
        return self.status not in ("running", "paused")

    def progress(self, graph: dict[str, Any] | None) -> str:
        """Where a run is, for the status line: ``note 4,812/10,000 · n04812`` (empty before any note)."""
        if self.current is None and not self.finished_order:
            return ""
        total = note_count(graph)
        count = (
            f"note {len(self.finished_order):,}/{total:,}" if total else f"note {len(self.finished_order):,}"
        )
        return f"{count} · {self.current}" if self.current else count


class Session:
    """The studio's state for one TARGET."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.ready: p.Ready | None = None
        self.load_error: p.LoadFailed | None = None
        self.entries: list[p.CadenceEntry] = []
        self.selected: str | None = None
        self.breakpoints: set[str] = set()
        self.watches: list[Watch] = []  # data breakpoints, sent with every run
        self.run: RunRecord | None = None
        self.logs: list[tuple[str, str]] = []
        self.notice: str | None = None

    @property
    def entry(self) -> p.CadenceEntry | None:
        return next((e for e in self.entries if e.name == self.selected), None)

    def apply(self, message: p.Message) -> set[str]:
        """Take one message in; return what changed: catalog, graph, inspector, timeline, log, status."""
        match message:
            case p.Ready():
                self.ready, self.load_error = message, None
                return {"status"}
            case p.LoadFailed():
                self.load_error, self.entries = message, []
                return {"status", "catalog", "graph", "inspector"}
            case p.Catalog():
                self.entries = list(message.entries)
                names = [e.name for e in self.entries]
                if self.selected not in names:
                    self.selected = default_choice(self.entries)
                return {"catalog", "graph", "inspector"}
            case p.EventMessage():
                return self._event(message)
            case p.Paused():
                return self._paused(message)
            case p.RunEnded():
                return self._ended(message)
            case p.RunBegan():
                run = self._current(message.run)
                if run is None:
                    return set()
                known = next((e.graph for e in self.entries if e.name == run.entry), None)
                # the catalog's graph when the run's is the same: one copy of a big cadence's graph, not two
                run.graph = known if known == message.graph else message.graph
                run.mark_reused(message.reused)
                return {"graph"} if message.reused else set()
            case p.Log():
                self.logs.append((message.stream, message.text))
                return {"log"}
            case p.WorkerError():
                self.notice = message.message
                return {"status"}
            case p.WatchFailed():
                run = self._current(message.run)
                if run is not None:
                    run.timeline.append(
                        ("yellow", f"! watch {message.watch.text!r} raised: {message.error}", "")
                    )
                return {"timeline"}
            case p.WorkerExited():
                if self.run is not None and not self.run.finished:
                    self.run.status = "crashed"
                    tail = message.stderr.strip().splitlines()[-1:] or [f"exit code {message.returncode}"]
                    self.run.timeline.append(("red", f"worker died: {tail[0]}", ""))
                    self.run.spans.close()
                return {"status", "graph", "timeline"}
        return set()

    def begin_run(self, number: int, entry: str) -> None:
        self.run = RunRecord(number=number, entry=entry)

    def _current(self, number: int) -> RunRecord | None:
        run = self.run
        return run if run is not None and run.number == number else None

    def _event(self, message: p.EventMessage) -> set[str]:
        run = self._current(message.run)
        if run is None:
            return set()
        event = message.event
        kind = event["kind"]
        node = event.get("node_id", "")
        score = message.score
        if score is not None:
            # Kept per note (before/after, provenance): the parts the note left alone are the last score's.
            score = run.score = share_subtrees(score, run.score)
        run.writes.feed(event, score)
        changed = {"graph", "timeline"}
        run.spans.apply(event, message.clock)
        state = run.node(node) if node else None
        if kind == "resumed":
            run.mark_reused([str(n) for n in event.get("completed") or ()])
        elif kind == "note_started" and state is not None:
            state.status = "running"
            run.current = node
            run.before[node] = score
        elif kind == "note_finished" and state is not None:
            state.status = event.get("status", "done")
            state.duration = event.get("duration")
            state.error = event.get("error")
            run.after[node] = score
            run.finished_order.append(node)
            changed.add("inspector")
        elif kind == "branch_taken" and state is not None:
            run.branches[node] = (event.get("value"), event.get("branch", "true"))
            state.status = "done"
            other = "false" if event.get("branch") == "true" else "true"
            run.node(f"{node}/{other}").status = "skipped"
        elif kind == "forked" and state is not None:
            state.status = "running"
            run.forks[node] = [str(t) for t in event.get("tasks") or ()]
        elif kind == "merged" and state is not None:
            changes = list(event.get("changes") or ())
            tasks = _copies(node, event.get("tasks") or run.forks.get(node) or (), len(changes))
            run.merges[node] = MergeView(
                tasks=tasks,
                snapshots=dict(zip(tasks, message.snapshots or (), strict=False)),
                changes=dict(zip(tasks, changes, strict=True)),
                conflicts=dict(event.get("conflicts", {})),
                merged=score,
                strategy=event.get("strategy", ""),
                error=event.get("error"),
            )
            state.status = "failed" if event.get("error") else "done"
            state.duration = event.get("duration")  # the group's own time (a recorded older run: None)
            run.after[node] = score
            changed.add("inspector")
        elif kind == "child_entered" and state is not None:
            state.status = "running"
        elif kind == "child_left" and state is not None:
            state.status = "failed" if event.get("error") else "done"
            state.duration = event.get("duration")
        elif kind == "retry_attempt" and state is not None:
            error = event.get("error") or {}
            state.attempts.append(
                f"attempt {event.get('attempt')}/{event.get('max_attempts')}: {error.get('message')}"
            )
        elif kind in ("timed_out", "fallback_used", "circuit_state_changed") and state is not None:
            state.notes.append(_describe(kind, event))
            state.fell_back = state.fell_back or kind == "fallback_used"
        elif kind == "stalled" and state is not None:
            state.stalled += float(event.get("blocked") or 0.0)
        elif kind == "skipped" and state is not None:
            state.skip_reason = str(event.get("reason") or "")
            if run.skip_reason is None:
                run.skip_reason = state.skip_reason
        line = _timeline_line(kind, event)
        if line is not None:
            run.timeline.append(line)
        return changed

    def _paused(self, message: p.Paused) -> set[str]:
        run = self._current(message.run)
        if run is None:
            return set()
        run.status = "paused"
        run.paused_at = message.node_id
        run.held = list(message.held)
        run.paused_score = message.score
        run.watch_hit, run.also_hit = message.watch, list(message.also)
        line = ("yellow", f"⏸ paused before {message.node_id}", message.node_id)
        if message.watch is not None:
            *first, last = [message.watch, *message.also]
            run.timeline.extend(("magenta", f"◈ {hit.line()}", message.node_id) for hit in first)
            line = ("magenta", f"◈ {last.line()}", message.node_id)
        if not run.timeline or run.timeline[-1] != line:
            run.timeline.append(line)
        return {"graph", "inspector", "timeline", "status"}

    def resumed(self) -> None:
        if self.run is not None and self.run.status == "paused":
            self.run.status = "running"
            self.run.paused_at = None
            self.run.held = []
            self.run.watch_hit = None

    def _ended(self, message: p.RunEnded) -> set[str]:
        run = self._current(message.run)
        if run is None:
            return set()
        run.status = message.status
        run.held, run.paused_at, run.watch_hit = [], None, None
        run.error = message.error
        run.duration = message.duration
        run.spans.close()
        if message.score is not None:
            run.score = message.score
        style = status_style(message.status)
        run.timeline.append((style, f"■ run {message.status} in {format_duration(message.duration)}", ""))
        return {"graph", "inspector", "timeline", "status"}


def share_subtrees(new: Any, old: Any) -> Any:
    """``new`` with every child equal to ``old``'s child at the same place replaced by ``old``'s object.

    The root is always a new container (never ``old`` itself), so two scores stay two objects even when
    equal; only what they have in common is shared. Stored trees are never changed in place.
    """
    if isinstance(new, dict) and isinstance(old, dict):
        return {key: _reuse(value, old[key]) if key in old else value for key, value in new.items()}
    if isinstance(new, list) and isinstance(old, list):
        return [_reuse(value, was) for value, was in zip(new, old, strict=False)] + new[len(old) :]
    return new


def _reuse(new: Any, old: Any) -> Any:
    if new is old or (type(new) is type(old) and new == old):
        return old
    return share_subtrees(new, old)


def status_style(status: str) -> str:
    """The colour a run's final status is shown in."""
    if status == "done":
        return "green"
    return "yellow" if status in ("skipped", "interrupted", "stopped", "stopped by reload") else "red"


_NOTE_COUNTS: dict[int, tuple[dict[str, Any], int]] = {}


def note_count(graph: dict[str, Any] | None) -> int:
    """How many notes a graph (``Cadence.describe()``) holds, its children's included; counted once."""
    if not graph:
        return 0
    known = _NOTE_COUNTS.get(id(graph))
    if known is not None and known[0] is graph:
        return known[1]
    count, stack = 0, [graph]
    while stack:
        node = stack.pop()
        count += node.get("kind") == "note"
        stack.extend(node.get("children") or ())
    if len(_NOTE_COUNTS) > 64:  # graphs of replaced workers: forget them
        _NOTE_COUNTS.clear()
    _NOTE_COUNTS[id(graph)] = (graph, count)
    return count


def _graph_ids(graph: dict[str, Any] | None) -> list[str]:
    """Every node id of a graph (``Cadence.describe()``), depth first."""
    if not graph:
        return []
    out = [str(graph.get("id", ""))]
    for child in graph.get("children") or ():
        out.extend(_graph_ids(child))
    return out


def _copies(group: str, tasks: Any, count: int) -> list[str]:
    """The node ids of a group's ``count`` copies, in the order of the merge's changes.

    The merge event names them (the fork event too, for runs recorded before it did); a run that
    names neither gets ``group/task N`` so that nothing is attributed to a guessed member.
    """
    ids = [str(t) for t in tasks]
    return ids if len(ids) == count else [f"{group}/task {i}" for i in range(count)]


def _describe(kind: str, event: dict[str, Any]) -> str:
    if kind == "timed_out":
        return f"timed out after {format_duration(float(event.get('seconds') or 0))}"
    if kind == "fallback_used":
        return f"fell back to {event.get('value')}"
    return f"circuit {event.get('circuit')}: {event.get('old')} → {event.get('new')}"


_QUIET = frozenset({"note_started", "forked", "run_started", "run_finished"})


def _timeline_line(kind: str, event: dict[str, Any]) -> tuple[str, str, str] | None:
    """One readable line per event worth reading (starts are shown by the graph instead)."""
    if kind in _QUIET:
        return None
    node = event.get("node_id", "")
    indent = "  " * int(event.get("depth", 0))
    if kind == "note_finished":
        took = format_duration(event.get("duration") or 0)
        marks = {"done": ("green", "✓"), "failed": ("red", "✗"), "skipped": ("yellow", "·")}
        mark = marks.get(str(event.get("status")), ("", "•"))
        error = event.get("error")
        tail = f" — {error['type']}: {error['message']}" if error else ""
        return (mark[0], f"{indent}{mark[1]} {node} {took}{tail}", node)
    if kind == "branch_taken":
        return ("cyan", f"{indent}◇ {node} → {event.get('branch')} ({event.get('value')!r})", node)
    if kind == "retry_attempt":
        error = event.get("error") or {}
        return (
            "yellow",
            f"{indent}↻ {node} attempt {event.get('attempt')} failed: {error.get('message')}",
            node,
        )
    if kind == "merged":
        overlap = ", ".join(event.get("conflicts") or {})
        if event.get("error"):
            return ("red", f"{indent}✗ {node} merge refused: {event['error'].get('message')}", node)
        duration = event.get("duration")
        took = f" {format_duration(duration)}" if duration is not None else ""
        extra = f", combined {overlap} ({event.get('strategy')})" if overlap else ""
        return ("magenta", f"{indent}⇉ {node} merged{took}{extra}", node)
    if kind == "child_entered":
        return ("cyan", f"{indent}↳ {node} → child cadence {event.get('child')}", node)
    if kind == "child_left":
        took = format_duration(event.get("duration") or 0)
        outcome = "failed" if event.get("error") else "merged"
        return ("red" if event.get("error") else "cyan", f"{indent}↲ {node} {outcome} {took}", node)
    if kind == "skipped":
        reason = event.get("reason")
        return ("yellow", f"{indent}· {node} skipped" + (f": {reason}" if reason else ""), node)
    if kind == "stalled":
        blocked = format_duration(float(event.get("blocked") or 0))
        return ("red", f"{indent}⚠ {node} blocked the event loop for {blocked}", node)
    if kind in ("timed_out", "fallback_used"):
        glyph = "◷" if kind == "timed_out" else "↪"
        return ("yellow", f"{indent}{glyph} {node} {_describe(kind, event)}", node)
    if kind in ("circuit_state_changed", "interrupted"):
        return ("yellow", f"{indent}! {kind.replace('_', ' ')} at {node}", node)
    return ("dim", f"{indent}{kind.replace('_', ' ')} {node}", node)


def default_choice(entries: list[p.CadenceEntry]) -> str | None:
    """The cadence to open first: one no other cadence uses as a child (the top of the module).

    Among those, a module-level cadence first, then a factory that draws without arguments, then
    any; ties go to the first in the module. Child use is read from the catalog's graphs (describe()).
    """
    used = _children_used(entries)
    top = [e for e in entries if e.graph is None or e.graph.get("name") not in used] or entries
    for choice in (
        [e for e in top if e.kind == "cadence"],
        [e for e in top if e.graph is not None],
        top,
    ):
        if choice:
            return choice[0].name
    return None


def _children_used(entries: list[p.CadenceEntry]) -> set[str]:
    """The names of the cadences some entry's graph runs as a ``.child``."""
    used: set[str] = set()
    stack = [e.graph for e in entries if e.graph is not None]
    while stack:
        node = stack.pop()
        if node.get("kind") == "child" and node.get("cadence"):
            used.add(str(node["cadence"]))
        stack.extend(node.get("children") or [])
    return used
