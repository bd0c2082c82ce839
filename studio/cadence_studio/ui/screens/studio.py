"""The studio screen: cadences, their graph, the inspector and the timeline of a run.

Its parts: :mod:`.studio_view` draws, :mod:`.studio_link` talks to the worker, :mod:`.studio_run` drives
runs; this module binds the keys and opens the dialogs (input, arguments, export, history, new note).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.widgets import Select

from ... import protocol as p
from ...errors import HistoryError
from ...protocol.session import RunRecord
from ..widgets.measure_graph import MeasureGraph
from ..widgets.score_tree import ScoreTree
from .studio_insight import RunInsight

__all__ = ["StudioScreen"]

CHECK_TIMEOUT = 3.0  # seconds to wait for the worker to check an edited score


class StudioScreen(RunInsight):
    """Everything the studio shows for one TARGET."""

    CSS_PATH = "studio.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run", tooltip="Run (or restart) the selected cadence"),
        Binding("n", "step", "Next", tooltip="Run to the next note and pause"),
        Binding("o", "step_over", "Over", tooltip="Step over a .sync group, branch or child"),
        Binding("c", "continue", "Continue", tooltip="Run to the next breakpoint or the end"),
        Binding("b", "toggle_breakpoint", "Break", tooltip="Toggle a breakpoint on the selected note"),
        # Checked before the key travels the focused widget's chain (issue 18: x → "stopped" within
        # 100 ms while a fast run keeps the loop busy); with no run to stop, x goes on as usual.
        Binding("x", "stop_key", "Stop", tooltip="Stop the run", priority=True),
        Binding("i", "edit_input", "Input", tooltip="Edit the initial score (JSON)"),
        Binding("a", "edit_args", "Args", show=False, tooltip="Edit the factory's arguments"),
        Binding("E", "export", "Export", tooltip="Export the diagram"),
        Binding("h", "history", "History", tooltip="Open a past run of this project"),
        Binding(
            "R",
            "resume",
            "Resume",
            show=False,
            tooltip="Resume the run on screen from its last completed note",
        ),
        Binding(
            "F",
            "rerun_from",
            "From here",
            show=False,
            tooltip="Re-run the run on screen from the selected note",
        ),
        Binding("t", "toggle_timeline", "Timeline", tooltip="Show or hide the run's timeline"),
        Binding("N", "new_note", "New note", show=False, tooltip="Scaffold a new note next to the module"),
        Binding("tab", "app.focus_next", "Focus", show=False),
    ]

    # ------------------------------------------------------------------ user events

    @on(Select.Changed, "#cadences")
    def _cadence_chosen(self, event: Select.Changed) -> None:
        name = event.value
        if isinstance(name, str) and name != self.session.selected:
            self.session.selected = name
            self.focus_node = None
            self._draw_graph()
            self._show_inspector()
            self._update_status()

    @on(ScoreTree.MoreRequested)
    async def _load_more(self, event: ScoreTree.MoreRequested) -> None:
        await self.client.send(p.Expand(path=event.path, offset=event.offset))

    @on(MeasureGraph.NoteSelected)
    def _note_selected(self, event: MeasureGraph.NoteSelected) -> None:
        self.focus_node = event.node_id
        self._show_inspector()

    # ------------------------------------------------------------------ dialogs

    def action_edit_input(self) -> None:
        entry = self.session.entry
        if entry is None:
            return
        current = self.inputs.get(entry.name) or entry.score_json or {}
        title = f"Initial score of {entry.name} ({entry.score_type})"
        if entry.score_kept:  # a lock, a generator...: no JSON form, each run gets the cadence's own
            title += f"\nnot JSON, taken from the cadence: {', '.join(entry.score_kept)}"
        from .dialogs import ScoreDialog  # (dialogs are imported when first opened)

        dialog = ScoreDialog(title, json.dumps(current, indent=2), self._checker(entry.name))

        def done(data: dict[str, Any] | None) -> None:
            if data is None:
                return
            if data:
                self.inputs[entry.name] = data
                self.notify(
                    "the next run starts from this score; the worker checks it against the score's type"
                )
            else:
                self.inputs.pop(entry.name, None)
                self.notify("the next run starts from the cadence's own score")

        self.app.push_screen(dialog, done)

    def _checker(self, name: str) -> Any:
        async def check(data: dict[str, Any]) -> str | None:
            waiting: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            self._checks[name] = waiting
            await self.client.send(p.CheckScore(target=name, score=data))
            try:
                return await asyncio.wait_for(waiting, CHECK_TIMEOUT)
            except TimeoutError:  # the worker is busy (a run holds it): the run checks it instead
                return None

        return check

    def action_edit_args(self) -> None:
        """Ask for the factory's arguments; the dialog's Run runs the cadence with them."""
        entry = self.session.entry
        if entry is None:
            self.notify("no cadence selected", severity="warning")
            return
        if entry.kind != "factory":
            self.notify(
                f"{entry.name} is a Cadence object, so it takes no arguments; only a function that "
                "returns a Cadence does. Press i to edit its initial score instead.",
                title="No arguments",
                severity="warning",
            )
            return
        from .dialogs import ArgsDialog

        self.app.push_screen(ArgsDialog(entry, self.args.get(entry.name, {})), self._args_given(False))

    def action_export(self) -> None:
        entry = self.session.entry
        if entry is None or entry.graph is None:
            self.notify("nothing to export yet", severity="warning")
            return
        run = self.session.run if self.session.run and self.session.run.entry == entry.name else None
        with_run = run is not None and run.finished

        def done(choice: tuple[str, str] | None) -> None:
            if choice is None or entry.graph is None:
                return
            fmt, path = choice
            self.export(entry.graph, fmt, path, run.statuses() if with_run and run else None)

        from .dialogs import ExportDialog

        self.app.push_screen(ExportDialog(entry.name, with_run), done)

    @work(thread=True, group="export")
    def export(self, graph: dict[str, Any], fmt: str, path: str, statuses: dict[str, Any] | None) -> None:
        from cadence import diagram

        try:
            written = diagram.save_diagram(graph, Path(path), format=fmt, statuses=statuses)
        except (ValueError, diagram.DiagramError) as error:
            self.app.call_from_thread(self.notify, str(error), title="Export failed", severity="error")
            return
        self.app.call_from_thread(self.notify, f"wrote {written}", title="Exported")

    def action_history(self) -> None:
        """Pick a recorded run of this project and show it as it was (graph, timeline, every score)."""
        history = self.history
        if history is None:
            self.notify("run history is off", severity="warning")
            return
        try:
            runs = history.runs(100) if history.path.exists() else []
            problem = None
        except HistoryError as error:
            runs, problem = [], str(error)
        temporal = self._temporal_server()
        from .history_dialog import Compare, HistoryDialog

        def chosen(run_id: int | str | Compare | None) -> None:
            if isinstance(run_id, Compare):
                self.compare(run_id.a, run_id.b)
            elif isinstance(run_id, str) and temporal is not None:
                self.open_temporal_run(*temporal, run_id)
            elif isinstance(run_id, int):
                self.open_past_run(run_id)

        where = _relative(history.path, self.project)
        self.app.push_screen(HistoryDialog(runs, where=where, problem=problem, temporal=temporal), chosen)

    def _temporal_server(self) -> tuple[str, str] | None:
        """The Temporal server (address, namespace) the project names, if any ([tool.cadence] temporal,
        CADENCE_TEMPORAL); a malformed setting is told, and the local runs are listed alone."""
        from ...protocol.config import ConfigError, load_config

        try:
            config = load_config(self.project)
        except ConfigError as error:
            self.notify(str(error), title="Run history", severity="warning", timeout=10)
            return None
        return None if config.temporal is None else (config.temporal, config.namespace)

    @work(thread=True, exclusive=True, group="history")
    def open_temporal_run(self, address: str, namespace: str, workflow_id: str) -> None:
        """Fetch a Temporal run's history (and its child workflows') and show it like a past run."""
        entries = self.session.entries
        try:
            from ...store.temporal_runs import run_record
            from ...store.temporal_server import fetch_run, run_sync, sync_groups

            graphs = [e.graph for e in entries if e.graph is not None]
            syncs = tuple(g for graph in graphs for g in sync_groups(graph))
            run, children = run_sync(fetch_run(address, workflow_id, namespace, syncs=syncs))
        except (HistoryError, ImportError) as error:
            self.app.call_from_thread(self.notify, str(error), title="Temporal", severity="error", timeout=10)
            return
        except Exception as error:  # anything else the client raises: told, never a crash
            text = f"reading {workflow_id} failed: {type(error).__name__}: {error}"
            self.app.call_from_thread(self.notify, text, title="Temporal", severity="error", timeout=10)
            return
        same = [e for e in entries if e.graph is not None and e.graph.get("name") == run.cadence]
        entry = min(same, key=lambda e: e.kind != "cadence", default=None)  # a Cadence object first
        fields = [str(key) for key, _ in (entry.score or {}).get("c") or ()] if entry is not None else []
        record = run_record(run, graph=entry.graph if entry else None, children=children, fields=fields)
        record.entry = entry.name if entry is not None else run.cadence
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started or 0))
        self.app.call_from_thread(self._show_past_run, record, workflow_id, when)

    @work(thread=True, exclusive=True, group="history")
    def open_past_run(self, run_id: int) -> None:
        assert self.history is not None
        try:
            summary = self.history.get(run_id)
            record = self.history.replay(run_id)
        except HistoryError as error:
            self.app.call_from_thread(self.notify, str(error), title="History", severity="error", timeout=10)
            return
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.started))
        record.recorded = f"from history #{summary.id}"
        self.app.call_from_thread(self._show_past_run, record, run_id, when)

    def _show_past_run(self, record: RunRecord, run_id: int | str, when: str) -> None:
        """Show a recorded run (``run_id``: its number; a Temporal run's workflow id)."""
        session = self.session
        if session.run is not None and not session.run.finished:
            self.notify(
                "a run is going on: stop it (x) or let it end, then open a past run", severity="warning"
            )
            return
        if record.entry not in {e.name for e in session.entries}:
            show = f"{run_id} --temporal HOST:PORT" if isinstance(run_id, str) else str(run_id)
            self.notify(
                f"{record.entry} is no longer in {session.target}; "
                f"`cadence-studio history show {show}` prints the run",
                title="History",
                severity="warning",
                timeout=10,
            )
            return
        session.selected = record.entry
        session.run = record
        self.shown_history_run = run_id if isinstance(run_id, int) else None
        self.focus_node = None
        self._fill_cadences()
        self._dirty |= {"graph", "inspector", "timeline", "status"}
        self.receive()
        name = f"Temporal run {run_id}" if isinstance(run_id, str) else f"run #{run_id}"
        self.notify(f"{name} of {when}: select a note to see the score after it", title="History", timeout=4)

    def action_new_note(self) -> None:
        """Scaffold a note (and its test) next to the loaded module; the save reloads the studio."""
        ready = self.session.ready
        if ready is None or ready.file is None:
            self.notify("load a module first: the note goes next to it", severity="warning")
            return
        directory = Path(ready.file).parent

        def done(options: dict[str, Any] | None) -> None:
            if options is not None:
                self.scaffold_note(directory, options)

        from .dialogs import NewNoteDialog

        self.app.push_screen(NewNoteDialog(), done)

    @work(thread=True, group="scaffold")
    def scaffold_note(self, directory: Path, options: dict[str, Any]) -> None:
        from ...errors import ScaffoldError
        from ...scaffold import new_note

        root = self.project
        try:
            made = new_note(
                options["name"],
                directory=directory,
                root=root,
                is_async=options["is_async"],
                retry=options["retry"],
                timeout=options["timeout"],
                fallback=options["fallback"],
            )
        except ScaffoldError as error:
            self.app.call_from_thread(self.notify, str(error), title="New note", severity="error", timeout=10)
            return
        shown = [(_relative(path, root), path.read_text()) for path in made.files]
        self.app.call_from_thread(self._scaffolded, shown, made.hint)

    def _scaffolded(self, shown: list[tuple[str, str]], hint: str) -> None:
        for name, _ in shown:
            self.session.logs.append(("studio", f"created {name}\n"))
        self._dirty.add("log")  # the Log pane lists the new files
        self.receive()
        self.notify(f"created {', '.join(name for name, _ in shown)}", title="New note")
        from .dialogs import CodeDialog

        self.app.push_screen(CodeDialog(f"Created {', '.join(name for name, _ in shown)}", shown, hint))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
