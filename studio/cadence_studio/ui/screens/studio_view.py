"""The studio's widgets, and how they show a session: cadence list, graph, inspector and status."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, Select, Static, TabbedContent, TabPane

from cadence.diagram import format_duration

from ...protocol.session import RunRecord, Session, status_style
from ..glyphs import legend_markdown
from ..widgets.footer import StudioFooter
from ..widgets.gantt import Gantt
from ..widgets.measure_graph import MeasureGraph
from ..widgets.merge_view import MergePanel
from ..widgets.note_details import NoteDetails, find_node
from ..widgets.score_tree import ScoreTree
from ..widgets.source_view import SourceView
from ..widgets.timeline import Timeline

__all__ = ["StudioView"]

WIDE_FROM = 120  # columns: narrower, the graph goes above the inspector and the timeline is a toggle
ROOMY_FOOTER_FROM = 140  # columns: narrower, the footer is compact (all its keys need 123 columns roomy)


class StudioView(Screen[None]):
    """Lays the widgets out and draws the session on them; :class:`StudioScreen` runs things."""

    AUTO_FOCUS = "#graph"  # ↑ ↓ select notes from the start (the cadence picker is a click or tab away)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]  # noqa: RUF012 - Textual's own attribute
    # Narrow, the footer shows the keys of a debugging session only; these stay in ? and the palette.
    NARROW_FOOTER_HIDES: ClassVar[frozenset[str]] = frozenset({"edit_input", "export", "history"})
    HELP = legend_markdown()  # `?` shows it above the keys, whatever has the focus

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.focus_node: str | None = None  # the node the inspector shows
        self._footer_shown: tuple[bool, bool, bool] | None = None  # narrow, compact, palette key
        self._status_line: Static | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield Select[str]([], prompt="cadence", compact=True, allow_blank=True, id="cadences")
            yield Static(id="status")
        with Horizontal(id="body"):
            yield MeasureGraph(id="graph")
            with TabbedContent(id="inspector"):
                with TabPane("Score", id="tab-score"):
                    yield ScoreTree(id="score-tree")
                with TabPane("Parallel", id="tab-parallel"), VerticalScroll():
                    yield MergePanel(id="merge")
                with TabPane("Note", id="tab-note"), VerticalScroll():
                    yield NoteDetails(id="note")
                with TabPane("Source", id="tab-source"), VerticalScroll():
                    yield SourceView(id="source")
                with TabPane("Log", id="tab-log"):
                    yield Timeline(id="log")
                with TabPane("Events", id="tab-events"):
                    yield Timeline(id="events")
        yield Gantt(id="timeline")
        yield StudioFooter()

    # ------------------------------------------------------------------ layout

    @property
    def narrow(self) -> bool:
        return self.size.width < WIDE_FROM

    def on_resize(self, event: Resize) -> None:
        """The footer fits the width: compact below 140 columns, fewer keys below 120 (none cut mid-word)."""
        footer = self.query_one(Footer)
        footer.compact = event.size.width < ROOMY_FOOTER_FROM
        footer.show_command_palette = event.size.width >= WIDE_FROM
        shown = (self.narrow, footer.compact, footer.show_command_palette)
        if shown != self._footer_shown:  # its keys change (a resize to the same width keeps them)
            self._footer_shown = shown
            self.refresh_bindings()
        if self.session.entry is not None:  # its key hints depend on the width (not while starting)
            self._update_status()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        if not self.narrow:
            return bindings
        return {
            key: active._replace(binding=dataclasses.replace(active.binding, show=False))
            if active.binding.action in self.NARROW_FOOTER_HIDES
            else active
            for key, active in bindings.items()
        }

    def action_toggle_timeline(self) -> None:
        """Narrow: the timeline in place of the inspector, and back. Wide: hide or show the timeline."""
        self.toggle_class("-timeline" if self.narrow else "-no-timeline")

    @property
    def timeline_shown(self) -> bool:
        return bool(self.query_one("#timeline", Gantt).display)

    # ------------------------------------------------------------------ drawing

    def _fill_cadences(self) -> None:
        picker = self.query_one("#cadences", Select)
        with picker.prevent(Select.Changed):
            picker.set_options(
                (
                    Text(
                        e.name + ("()" if e.kind == "factory" else ""),
                        style="bold" if e.kind == "cadence" else "",
                    ),
                    e.name,
                )
                for e in self.session.entries
            )
            if self.session.selected is not None:
                picker.value = self.session.selected

    def _draw_graph(self) -> None:
        graph = self.query_one("#graph", MeasureGraph)
        session = self.session
        entry = session.entry
        if session.load_error is not None:
            graph.show(None, message=f"{session.load_error.error.message} — {session.load_error.hint}")
            self._show_load_error()
            return
        if entry is None:
            plugins = session.target.startswith("@")
            graph.show(
                None,
                message="no installed plugin cadences here: `cadence-studio list --installed` says why"
                if plugins
                else "no cadence found in this module",
            )
            return
        run = session.run if session.run is not None and session.run.entry == entry.name else None
        drawn = _graph_of(entry.graph, run)
        if drawn is None:
            graph.show(None, message=f"{entry.name}() needs arguments: press r to fill them in")
            return
        follow = run.paused_at if run is not None and run.paused_at != graph.selected else None
        graph.show(
            drawn,
            statuses=run.statuses() if run else None,
            breakpoints=frozenset(session.breakpoints),
            taken={node: taken for node, (_, taken) in run.branches.items()} if run else None,
            select=follow,
        )
        if graph.border_title != entry.name:  # setting it repaints the whole graph, even to the same title
            graph.border_title = entry.name
        if follow is not None:
            self.focus_node = follow

    def _show_load_error(self) -> None:
        failed = self.session.load_error
        assert failed is not None
        details = self.query_one("#note", NoteDetails)
        trace = failed.error.traceback or failed.error.message
        details.update(
            Text.assemble(
                (f"Could not load {failed.target}\n", "bold red"),
                (f"{failed.error.message}\n", "red"),
                (f"hint: {failed.hint}\n\n", "yellow"),
                trace,
            )
        )
        self.query_one("#inspector", TabbedContent).active = "tab-note"

    def _show_inspector(self) -> None:
        session = self.session
        if session.load_error is not None:
            self._show_load_error()
            return
        entry = session.entry
        node_id = self.focus_node
        run = session.run if session.run is not None and entry and session.run.entry == entry.name else None
        # Only the pane on show is filled; the others are when their tab is opened (no hidden work).
        active = self.query_one("#inspector", TabbedContent).active
        graph_tree = _graph_of(entry.graph, run) if entry else None
        if active == "tab-note":
            node = find_node(graph_tree, node_id)
            state = run.nodes.get(node_id) if run and node_id else None
            branch = run.branches.get(node_id) if run and node_id else None
            self.query_one("#note", NoteDetails).show(node, state, branch)
            return
        if active == "tab-source":
            self.query_one("#source", SourceView).show(find_node(graph_tree, node_id), node_id)
            return
        if active == "tab-parallel":
            group = self._group_of(node_id, graph_tree)
            self.query_one("#merge", MergePanel).show(group, run.merges.get(group) if run and group else None)
            return
        tree = self.query_one("#score-tree", ScoreTree)
        if run is None:
            tree.show(entry.score if entry else None, title="initial score")
        elif (
            run.watch_hit is not None and node_id is not None and node_id == run.paused_at
        ):  # held after its write
            title = f"score after {node_id} ◈ {run.watch_hit.watch.label()}"
            tree.show(run.paused_score, run.before.get(node_id), title=title, live=True)
            if run.watch_hit.watch.kind == "field":  # the written field in view, small terminals too
                tree.reveal(tuple(run.watch_hit.watch.text.split(".")))
        elif run.paused_at is not None and node_id in (run.paused_at, *run.held):
            tree.show(run.paused_score, title=f"score before {node_id}", live=node_id == run.paused_at)
        elif node_id in run.after:
            tree.show(run.after[node_id], run.before.get(node_id), title=f"score after {node_id}")
        elif run.finished:
            tree.show(run.score, title=f"score ({run.status})", live=True)
        else:
            tree.show(run.score, title="score now")

    @on(Gantt.NoteSelected)
    def _row_clicked(self, event: Gantt.NoteSelected) -> None:
        """A row of the timeline: its node in the graph (which tells the inspector)."""
        self.query_one("#graph", MeasureGraph).select(event.node_id)

    @on(TabbedContent.TabActivated, "#inspector")
    def _pane_opened(self) -> None:
        self._show_inspector()

    @staticmethod
    def _group_of(node_id: str | None, graph: dict[str, Any] | None) -> str | None:
        node = find_node(graph, node_id)
        if node is None or node_id is None:
            return None
        if node["kind"] == "sync":
            return node_id
        parent = find_node(graph, node_id.rsplit("/", 1)[0])
        return parent["id"] if parent is not None and parent["kind"] == "sync" else None

    def _status(self, text: str, style: str = "") -> None:
        # one line, always: no need to lay the screen out again for it (a cut line ends in "…")
        line = self._status_line
        if line is None:  # found once: a query walks the whole screen, at every step (issue 18)
            line = self._status_line = next(iter(self.query("#status").results(Static)), None)
        if line is not None and line.is_attached:  # not while the app closes
            line.update(Text(text, style=style, no_wrap=True), layout=False)

    def _update_status(self) -> None:
        """The selected cadence and its state (a run of another cadence is only mentioned)."""
        session = self.session
        entry = session.entry
        run = session.run
        if session.load_error is not None:
            self._status(f"✗ could not load: {session.load_error.error.message}", "bold red")
            return
        if entry is None:
            self._status("no cadence selected", "dim")
            return
        if run is None or run.entry != entry.name:
            other = f" · {run.entry} {run.status}" if run is not None and not run.finished else ""
            self._status(f"{entry.name}: ready — r run · n step · ? keys{other}", "dim")
        elif run.status == "paused" and run.watch_hit is not None:
            more = f" (+{len(run.also_hit)} more: see the timeline)" if run.also_hit else ""
            self._status(f"◈ {run.watch_hit.line()}{more}", "bold magenta")
        elif run.status == "paused":
            keys = "" if self.narrow else "   n next · o over · c continue · x stop"  # narrow: the footer's
            self._status(f"⏸ paused before {run.paused_at}{keys}", "bold yellow")
        elif run.status == "running":
            progress = run.progress(_graph_of(entry.graph, run))
            # narrow: the cadence is in the picker beside it; the note and the count need the room
            head = "▶ running…" if self.narrow else f"▶ run {run.number} of {run.entry} running…"
            self._status(head + (f" · {progress}" if progress else ""), "bold")
        else:
            style = f"bold {status_style(run.status)}"
            error = f" — {run.error.type}: {run.error.message}" if run.error else ""
            error = error or (f" — {run.skip_reason}" if run.skip_reason else "")
            took = f" in {format_duration(run.duration)}" if run.duration else ""
            past = f"   [{run.recorded}]" if run.recorded else ""
            self._status(f"■ {run.entry}: {run.status}{took}{error}{past}", style)


def _graph_of(current: dict[str, Any] | None, run: RunRecord | None) -> dict[str, Any] | None:
    """The graph to draw: a past run's own (the code may have changed since), the one a factory
    built for this run when the catalog has none, else the module's current one."""
    if run is not None and run.graph is not None and (run.recorded is not None or current is None):
        return run.graph
    return current
