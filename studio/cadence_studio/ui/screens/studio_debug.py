"""Debugging beyond breakpoints: data breakpoints (w, W), the note's source in $EDITOR (e), and
freezing a finished note as a test (f).

Watches are evaluated in the worker only (see :mod:`cadence_studio.worker.watching`); here they are
named, listed and sent, like breakpoints, with every run and whenever they change.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import ClassVar

from textual import work
from textual.app import SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.widgets import TabbedContent

from ... import protocol as p
from ...errors import HistoryError, ScaffoldError
from ...protocol.watches import normalised, watch_problem
from ..source import SourceError, note_source
from ..widgets.measure_graph import MeasureGraph
from ..widgets.note_details import find_node
from ..widgets.score_tree import ScoreTree
from .studio_durable import DurableControls
from .studio_view import _graph_of

__all__ = ["DebugControls"]


class DebugControls(DurableControls):
    """w watches the selected score field, W lists and adds watches, e edits the selected note, f
    freezes it as a test."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "w",
            "watch_field",
            "Watch",
            show=False,
            tooltip="Pause when a note changes the selected score field",
        ),
        Binding("W", "watches", "Watches", show=False, tooltip="Data breakpoints: add an expression, remove"),
        Binding("e", "edit_source", "Edit", show=False, tooltip="Open the selected note in $EDITOR"),
        Binding(
            "f", "freeze_note", "Freeze", show=False, tooltip="Write a test of the selected finished note"
        ),
    ]

    def _apply(self, message: p.Message) -> set[str]:
        changed = super()._apply(message)
        if isinstance(message, p.WatchFailed):
            where = f" after {message.node_id}" if message.node_id else ""
            self.notify(
                f"{message.watch.text!r} raised{where}: {message.error}. It is said once and does not "
                "stop the run; fix it with W.",
                title="Watch expression failed",
                severity="warning",
                timeout=10,
            )
        return changed

    async def _send_watches(self) -> None:
        await self.client.send(p.SetWatches(watches=list(self.session.watches)))

    async def action_watch_field(self) -> None:
        """Watch (or stop watching) the score field under the Score pane's cursor."""
        tree = self.query_one("#score-tree", ScoreTree)
        row = tree.cursor_node.data if tree.cursor_node is not None else None
        if self.query_one("#inspector", TabbedContent).active != "tab-score" or row is None or not row.path:
            self.notify(
                "select a field in the Score pane (tab to it, ↑ ↓), then press w; W watches an expression",
                title="Watch",
                severity="warning",
            )
            return
        watch = normalised(p.Watch(kind="field", text=".".join(row.path)))
        problem = watch_problem(watch)
        if problem is not None:
            self.notify(f"cannot watch it: {problem}; W watches an expression instead", severity="warning")
            return
        if watch in self.session.watches:
            self.session.watches.remove(watch)
            self.notify(f"no longer watching {watch.label()}", title="Watch")
        else:
            self.session.watches.append(watch)
            self.notify(
                f"watching {watch.label()}: the run pauses right after a note changes it", title="Watch"
            )
        await self._send_watches()

    def action_watches(self) -> None:
        async def done(watches: list[p.Watch] | None) -> None:
            if watches is None:
                return
            self.session.watches = watches
            await self._send_watches()
            shown = ", ".join(w.label() for w in watches) or "none"
            self.notify(f"data breakpoints: {shown}", title="Watches")

        from .watch_dialog import WatchDialog  # (dialogs are imported when first opened)

        self.app.push_screen(WatchDialog(self.session.watches), done)

    def _selected_source(self) -> tuple[str, int] | None:
        """The file and first line of the selected note (after saying why there is none)."""
        node_id = self.query_one("#graph", MeasureGraph).selected
        entry = self.session.entry
        run = (
            self.session.run if self.session.run and entry and self.session.run.entry == entry.name else None
        )
        graph = _graph_of(entry.graph, run) if entry else None
        try:
            source = note_source(find_node(graph, node_id), node_id or "")
        except SourceError as error:
            self.notify(str(error), title="Source", severity="warning")
            return None
        return str(source.file), source.line

    def action_edit_source(self) -> None:
        """Open the selected note in ``$EDITOR +LINE FILE``, the studio suspended meanwhile."""
        where = self._selected_source()
        if where is None:
            return
        file, line = where
        editor = os.environ.get("EDITOR", "").strip()
        if not editor:
            self.notify(
                f"$EDITOR is not set: set the EDITOR variable (e.g. export EDITOR=vim) to open notes with e. "
                f"The note is at {file}:{line}",
                title="No editor",
                severity="warning",
                timeout=10,
            )
            return
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), f"+{line}", file], check=False)
        except SuspendNotSupported:
            self.notify(
                f"this terminal cannot hand over to an editor; the note is at {file}:{line}",
                severity="warning",
            )
        except OSError as error:
            self.notify(f"could not start $EDITOR ({editor!r}): {error}", title="Editor", severity="error")
        self._show_inspector()

    def action_freeze_note(self) -> None:
        """Write a pytest file running the selected note of the run on screen on its recorded input."""
        node_id = self.focus_node
        if node_id is None:
            self.notify("select a finished note first (↑ ↓), then f", severity="warning")
            return
        number = self._history_run()
        if number is not None and self.history is not None:
            self.freeze(number, node_id)

    @work(thread=True, group="freeze")
    def freeze(self, number: int, node_id: str) -> None:
        assert self.history is not None
        from ..freezing import freeze_recorded  # (scaffolding: imported when first used)

        try:
            path = freeze_recorded(self.history, number, node_id, root=self.project)
        except (HistoryError, ScaffoldError) as error:
            hint = (
                f" (`cadence-studio freeze {number} {node_id} --force` overwrites it)"
                if "exist" in str(error)
                else ""
            )
            self.app.call_from_thread(
                self.notify, f"{error}{hint}", title="Freeze as a test", severity="error", timeout=10
            )
            return
        shown = path.relative_to(self.project) if path.is_relative_to(self.project) else path
        self.app.call_from_thread(
            self.notify,
            f"wrote {shown}: {node_id} on its input from run #{number}; run it with pytest",
            title="Frozen as a test",
            timeout=8,
        )
