"""The Textual app: routing and global keys; the work happens in :class:`StudioScreen`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from ..protocol.session import Session
from ..store.history import History, HistoryError
from ..store.recorder import Recorder
from .client import Client, WorkerClient
from .screens.studio import StudioScreen

__all__ = ["StudioApp", "make_app"]

#: seconds: how soon a thread waiting for the interpreter gets it from a busy one (Python's default is
#: 5 ms). The terminal's input and output are Textual's threads: a key read, and a frame painted,
#: wait for the UI's loop to let them in, several times each (issue 18: x → "stopped").
SWITCH_INTERVAL = 0.001


class StudioApp(App[None]):
    """Cadence Studio."""

    TITLE = "Cadence Studio"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "toggle_keys", "Keys"),
    ]

    def __init__(
        self,
        target: str,
        client: Client,
        *,
        project: Path | None = None,
        watch: Path | None = None,
        history: History | None = None,
    ) -> None:
        super().__init__()
        self.target = target
        self.client = client
        self.watch_dir = watch
        self.project = (project or Path.cwd()).resolve()
        self.history = history
        self.recorder: Recorder | None = None

    def on_mount(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        if self.history is not None and isinstance(self.client, WorkerClient):
            try:
                self.recorder = self.client.recorder = self.history.recorder(
                    self.target, on_notice=self._history_notice
                )
            except HistoryError as error:
                self.notify(f"{error}; runs are not recorded", title="Run history", severity="warning")
        # Pushed once the app has mounted: Textual holds every frame back while it mounts, and a screen
        # pushed from here was laid out and rendered in that time, thrown away, and rendered again.
        self.call_later(
            self.push_screen,
            StudioScreen(
                self.client,
                Session(self.target),
                project=self.project,
                watch=self.watch_dir,
                history=self.history,
            ),
        )

    def _history_notice(self, text: str) -> None:
        """What the run history's writer thread has to say (``notify`` is thread-safe)."""
        self.notify(text, title="Run history", severity="warning", timeout=10)

    _switch_interval: float | None = None

    async def on_unmount(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
        await self.client.close(grace=0.5)
        if self.recorder is not None:
            self.recorder.close()

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, StudioScreen):
            for title, help_text, action in (
                ("Run", "Run (or restart) the selected cadence", screen.action_run),
                ("Step", "Run to the next note and pause", screen.action_step),
                ("Step over", "Run a held .sync group, branch or child whole", screen.action_step_over),
                ("Continue", "Run to the next breakpoint or the end", screen.action_continue),
                ("Toggle breakpoint", "On the selected note", screen.action_toggle_breakpoint),
                (
                    "Watch field",
                    "Pause when a note changes the selected score field",
                    screen.action_watch_field,
                ),
                (
                    "Data breakpoints",
                    "Break when an expression over the score turns true",
                    screen.action_watches,
                ),
                ("Edit note", "Open the selected note in $EDITOR at its line", screen.action_edit_source),
                (
                    "Freeze note as a test",
                    "A pytest file: the note on its recorded input",
                    screen.action_freeze_note,
                ),
                ("Stop", "Stop the run (replacing a hung worker)", screen.action_stop),
                ("Edit input", "Edit the initial score as JSON", screen.action_edit_input),
                ("Edit arguments", "The factory's arguments", screen.action_edit_args),
                ("Export diagram", "Mermaid, DOT, SVG or PNG", screen.action_export),
                ("New note", "Scaffold a note and its test next to the module", screen.action_new_note),
                ("Run history", "Open a past run of this project", screen.action_history),
                (
                    "Resume run",
                    "Go on with the run on screen from its last completed note",
                    screen.action_resume,
                ),
                (
                    "Re-run from here",
                    "Re-run the run on screen from the selected note",
                    screen.action_rerun_from,
                ),
            ):
                yield SystemCommand(title, help_text, action)


def make_app(
    target: str,
    *,
    cwd: Path = Path("."),
    client: Client | None = None,
    watch: bool = True,
    history: bool = True,
) -> StudioApp:
    """The studio on ``target``: a real worker unless a ``client`` is given (tests script one).

    With ``history``, runs are recorded in (and opened from) ``cwd/.cadence/history.sqlite3``.
    """
    cwd = cwd.resolve()
    return StudioApp(
        target,
        client if client is not None else WorkerClient(target, cwd=cwd),
        project=cwd,
        watch=cwd if watch else None,
        history=History(cwd) if history else None,
    )
