"""The studio screen: cadences, their graph, the inspector and the timeline of a run."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Select, TabbedContent

from .. import protocol as p
from ..client import Client, exit_reason
from ..history import STOPPED_BY_RELOAD, History, HistoryError
from ..history_recorder import Recorder
from ..session import RunRecord, Session
from ..widgets.measure_graph import MeasureGraph
from ..widgets.score_tree import ScoreTree
from ..widgets.timeline import Timeline
from .dialogs import ArgsDialog, CodeDialog, ExportDialog, NewNoteDialog, ScoreDialog
from .history_dialog import HistoryDialog
from .studio_view import StudioView

__all__ = ["StudioScreen"]

STOP_GRACE = 1.0  # seconds a stopped run may take before its worker is replaced
CHECK_TIMEOUT = 3.0  # seconds to wait for the worker to check an edited score
DRAW_WAIT_FACTOR = 3.0  # after a redraw that took t, the next waits 3t (the screen keeps up with any run)
MAX_DRAW_WAIT = 1.0
PACE_ABOVE = 0.02  # seconds: redraws cheaper than this follow every batch at once
# A resumed run says "running" only if it has not paused again by then: a step that takes no time
# shows no flash of "running", and its reply is painted at once instead of after the next frame.
RUNNING_SHOWN_AFTER = 0.05
STEP_HOLD = 0.03  # seconds the events of a step may wait for its pause, to be painted with it
_ANSWERS = (p.Paused, p.RunEnded, p.WorkerExited, p.LoadFailed)


class StudioScreen(StudioView):
    """Everything the studio shows for one TARGET."""

    CSS_PATH = "studio.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run", tooltip="Run (or restart) the selected cadence"),
        Binding("n", "step", "Next", tooltip="Run to the next note and pause"),
        Binding("o", "step_over", "Over", tooltip="Step over a .sync group, branch or child"),
        Binding("c", "continue", "Continue", tooltip="Run to the next breakpoint or the end"),
        Binding("b", "toggle_breakpoint", "Break", tooltip="Toggle a breakpoint on the selected note"),
        Binding("x", "stop", "Stop", tooltip="Stop the run"),
        Binding("i", "edit_input", "Input", tooltip="Edit the initial score (JSON)"),
        Binding("a", "edit_args", "Args", show=False, tooltip="Edit the factory's arguments"),
        Binding("e", "export", "Export", tooltip="Export the diagram"),
        Binding("h", "history", "History", tooltip="Open a past run of this project"),
        Binding("t", "toggle_timeline", "Timeline", tooltip="Show or hide the run's timeline"),
        Binding("N", "new_note", "New note", show=False, tooltip="Scaffold a new note next to the module"),
        Binding("tab", "app.focus_next", "Focus", show=False),
    ]

    def __init__(
        self,
        client: Client,
        session: Session,
        *,
        project: Path | None = None,
        watch: Path | None = None,
        history: History | None = None,
    ) -> None:
        super().__init__(session)
        self.client = client
        self.history = history
        self.project = (project or Path.cwd()).resolve()  # new files must stay inside it
        self.watch_dir = watch
        self.runs_sent = 0
        self.args: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, dict[str, Any]] = {}
        self._checks: dict[str, asyncio.Future[str | None]] = {}
        self._dirty: set[str] = set()
        self._next_draw = 0.0
        self._draw_timer: Timer | None = None
        self._draw_due = 0.0
        self._hold_until = 0.0
        self._running_timer: Timer | None = None
        self._timeline_run: RunRecord | None = None  # the run the timeline shows
        self._reloading: str | None = None  # why the worker is being replaced, until it has loaded
        self._steps_queued = 0  # n pressed while a step was still running: sent at each pause

    # ------------------------------------------------------------------ lifecycle

    async def on_mount(self) -> None:
        self.title = "Cadence Studio"
        self.sub_title = self.session.target
        self.query_one("#inspector", TabbedContent).border_title = "Inspector"
        self.query_one("#timeline", Timeline).border_title = "Timeline"
        self.query_one("#graph", MeasureGraph).border_title = "Graph"
        self._status("starting the worker…")
        await self.client.start()
        self.pump()
        if self.watch_dir is not None:
            self.watch_files()

    @work(exclusive=True, group="pump")
    async def pump(self) -> None:
        async for message in self.client.messages():
            # Everything already queued is applied first and drawn once: a fast run sends
            # thousands of events, and the screen should follow them, not replay each.
            self.receive(message, *self.client.pending())
            await asyncio.sleep(0)  # let keys (x, q) in between batches

    def receive(self, *messages: p.Message) -> None:
        """Apply worker messages in order; redraw what they changed, at most as often as drawing allows.

        Drawing a big graph takes a while: the next redraw waits a few times that long, so a fast run
        of thousands of notes is followed, not replayed event by event (the messages keep flowing).
        After a step, the events before the pause wait a moment for it, so that one paint shows them all.
        """
        for message in messages:
            self._dirty |= self._apply(message)
            if isinstance(message, _ANSWERS):
                self._hold_until = 0.0
        due = max(self._next_draw, self._hold_until)
        wait = due - time.perf_counter()
        if wait <= 0:
            self._cancel_draw()
            self._draw_dirty()
        elif self._draw_timer is None or due < self._draw_due:
            self._cancel_draw()
            self._draw_due = due
            self._draw_timer = self.set_timer(wait, self._draw_dirty)

    def _cancel_draw(self) -> None:
        if self._draw_timer is not None:
            self._draw_timer.stop()
            self._draw_timer = None

    def _hold_draws(self) -> None:
        """The run was resumed: hold what it sends until it pauses or ends, for ``STEP_HOLD`` at most."""
        self._hold_until = time.perf_counter() + STEP_HOLD
        self._show_running_soon()

    @property
    def up_to_date(self) -> bool:
        """Whether everything received has been drawn (no redraw waiting)."""
        return not self._dirty and self._draw_timer is None

    def _draw_dirty(self) -> None:
        self._draw_timer = None
        changed, self._dirty = self._dirty, set()
        started = time.perf_counter()
        self._redraw(changed)
        cost = time.perf_counter() - started
        # Cheap draws (small cadences) are never held back; costly ones space themselves out.
        wait = DRAW_WAIT_FACTOR * cost if cost > PACE_ABOVE else 0.0
        self._next_draw = time.perf_counter() + min(MAX_DRAW_WAIT, wait)

    def _redraw(self, changed: set[str]) -> None:
        if "graph" in changed or "catalog" in changed:
            self._draw_graph()
        if "inspector" in changed:
            self._show_inspector()
        run = self.session.run
        if "timeline" in changed and run is not None:
            timeline = self.query_one("#timeline", Timeline)
            if self._timeline_run is not run:  # a new run: its timeline starts over
                timeline.reset()
                self._timeline_run = run
            timeline.sync(run.timeline)
        if "log" in changed:
            log = self.query_one("#log", Timeline)
            log.sync([("", text.rstrip("\n"), "") for _, text in self.session.logs])
        if changed & {"status", "graph", "catalog"}:
            self._update_status()

    def _apply(self, message: p.Message) -> set[str]:
        """One message into the session, plus what it asks of the screen besides redrawing."""
        changed = self.session.apply(message)
        if self._reloading is not None and isinstance(message, (p.Ready, p.LoadFailed, p.WorkerExited)):
            self._reloaded(message)
        run = self.session.run
        if isinstance(message, p.Paused) and self._steps_queued and run and run.number == message.run:
            self._steps_queued -= 1
            self.session.resumed()
            self._hold_draws()
            self.run_worker(self.client.send(p.Step()), group="step")
        elif isinstance(message, (p.RunEnded, p.WorkerExited, p.LoadFailed)):
            self._steps_queued = 0
        if isinstance(message, p.Catalog):
            self._fill_cadences()
        if isinstance(message, p.ScoreChecked):
            waiting = self._checks.pop(message.target, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(message.error)
        if isinstance(message, p.Expanded):
            self._expanded(message)
        if isinstance(message, p.WorkerError):
            self.notify(message.message, title="Refused", severity="error", timeout=8)
        if isinstance(message, p.WorkerExited):
            self._worker_exited(message)
        return changed

    def _worker_exited(self, message: p.WorkerExited) -> None:
        """The worker died (a note called os._exit, a crash): report it and start a new one."""
        self.runs_sent = 0
        if self.session.load_error is not None:  # it ends after reporting a load error; a save restarts it
            return
        if self.session.ready is None:  # it never came up: starting again would only loop
            tail = message.stderr.strip().splitlines()[-1:] or [f"exit code {message.returncode}"]
            self.notify(
                f"the worker could not start: {tail[0]}", title="Worker", severity="error", timeout=10
            )
            return
        self.session.ready = None
        reason = exit_reason(message.returncode)
        self.notify(f"the worker {reason}; starting a new one", severity="warning")
        self.run_worker(self.client.restart(), group="restart")

    @work(exclusive=True, group="watch")
    async def watch_files(self) -> None:
        from watchfiles import PythonFilter, awatch

        assert self.watch_dir is not None
        async for changes in awatch(self.watch_dir, watch_filter=PythonFilter(), debounce=50, step=10):
            names = sorted({Path(path).name for _, path in changes})
            await self.reload(f"{', '.join(names)} changed")

    async def reload(self, why: str) -> None:
        """Start a new worker (the user's code changed); breakpoints stay, by node id."""
        self.runs_sent = 0
        self._steps_queued = 0
        run = self.session.run
        cut = run if run is not None and not run.finished and run.recorded is None else None
        self.session.run = None
        self.query_one("#timeline", Timeline).reset()
        self._reloading = why  # said when the new worker has loaded the module (or failed to)
        await self.client.restart()
        if cut is not None:
            self._run_cut_by_reload(cut, why)

    def _reloaded(self, message: p.Message) -> None:
        """After a reload: "reloaded" once the new worker loaded the module; its error if it could not."""
        why, self._reloading = self._reloading, None
        if isinstance(message, p.Ready):
            self.notify(f"reloaded: {why}", timeout=3)
        elif isinstance(message, p.LoadFailed):
            self.notify(
                f"{message.error.message} — {message.hint}",
                title=f"Reload failed ({why})",
                severity="error",
                timeout=8,
            )

    def _run_cut_by_reload(self, run: RunRecord, why: str) -> None:
        """A run was going on (or paused) when the module changed: the new worker ended it; say so."""
        recorder = getattr(self.client, "recorder", None)
        if isinstance(recorder, Recorder):
            recorder.end_run(STOPPED_BY_RELOAD, f"the studio reloaded the module ({why}) while it ran")
        where = "; open it with h" if recorder is not None else ""
        self.notify(
            f"the {run.status} run of {run.entry} was stopped by the reload{where}",
            title="Run stopped",
            severity="warning",
            timeout=10,
        )

    def _show_running_soon(self) -> None:
        """Say "running" after a moment, unless the run has paused or ended by then."""
        if self._running_timer is not None:
            self._running_timer.stop()

        def show() -> None:
            self._running_timer = None
            run = self.session.run
            if run is not None and run.status == "running":
                self._update_status()

        self._running_timer = self.set_timer(RUNNING_SHOWN_AFTER, show)

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

    def _expanded(self, message: p.Expanded) -> None:
        if message.error is not None or not isinstance(message.tree, dict):
            self.notify(message.error or "nothing to load", severity="warning")
            return
        self.query_one("#score-tree", ScoreTree).add_more(message.path, message.offset, message.tree)

    @on(MeasureGraph.NoteSelected)
    def _note_selected(self, event: MeasureGraph.NoteSelected) -> None:
        self.focus_node = event.node_id
        self._show_inspector()

    # ------------------------------------------------------------------ actions

    async def _start(self, *, pause_at_start: bool) -> None:
        entry = self.session.entry
        if entry is None:
            self.notify("no cadence selected", severity="warning")
            return
        if entry.kind == "factory" and entry.graph is None and entry.name not in self.args:
            self.app.push_screen(ArgsDialog(entry, {}), self._args_given(pause_at_start))
            return
        self.runs_sent += 1
        self._steps_queued = 0
        self.session.begin_run(self.runs_sent, entry.name)
        await self.client.send(
            p.Run(
                target=entry.name,
                args=self.args.get(entry.name, {}),
                score=self.inputs.get(entry.name),
                breakpoints=sorted(self.session.breakpoints),
                pause_at_start=pause_at_start,
            )
        )
        # The new run's graph, timeline and status are drawn with its first pause (or end), as a step's are.
        self._dirty |= {"graph", "timeline", "status"}
        self._hold_draws()
        self.receive()

    def _args_given(self, pause_at_start: bool) -> Any:
        async def given(values: dict[str, Any] | None) -> None:
            entry = self.session.entry
            if values is None or entry is None:
                return
            self.args[entry.name] = values
            await self._start(pause_at_start=pause_at_start)

        return given

    async def action_run(self) -> None:
        await self._start(pause_at_start=False)

    async def action_step(self) -> None:
        run = self.session.run
        if run is None or run.finished:
            await self._start(pause_at_start=True)
        elif run.status == "paused":
            self.session.resumed()
            await self.client.send(p.Step())
            self._hold_draws()
        else:  # a step is still running: this one follows it, at its pause (n n n takes three steps)
            self._steps_queued += 1

    async def action_step_over(self) -> None:
        run = self.session.run
        if run is None or run.finished:
            await self._start(pause_at_start=True)
        elif run.status == "paused":
            self.session.resumed()
            await self.client.send(p.StepOver())
            self._hold_draws()

    async def action_continue(self) -> None:
        run = self.session.run
        if run is None or run.finished:
            await self._start(pause_at_start=False)
        else:
            self._steps_queued = 0
            self.session.resumed()
            await self.client.send(p.Continue())
            self._hold_draws()

    async def action_toggle_breakpoint(self) -> None:
        node = self.query_one("#graph", MeasureGraph).selected
        if node is None:
            return
        if node in self.session.breakpoints:
            self.session.breakpoints.discard(node)
        else:
            self.session.breakpoints.add(node)
        await self.client.send(p.SetBreakpoints(ids=sorted(self.session.breakpoints)))
        self._draw_graph()

    async def action_stop(self) -> None:
        run = self.session.run
        self._steps_queued = 0
        if run is None or run.finished:
            return
        await self.client.send(p.Stop())
        number = run.number
        await asyncio.sleep(STOP_GRACE)
        if (
            self.session.run is not None
            and self.session.run.number == number
            and not self.session.run.finished
        ):
            # The run did not stop: a sync note that never returns holds the worker. Replace it.
            self.session.run.status = "stopped"
            self.session.run.timeline.append(
                ("yellow", "■ the worker did not stop in time; it was replaced", "")
            )
            self.runs_sent = 0
            await self.client.restart()
            self.notify(
                "the run would not stop (a note never returned): started a new worker", severity="warning"
            )
            self._draw_graph()
            self._update_status()

    def action_edit_input(self) -> None:
        entry = self.session.entry
        if entry is None:
            return
        current = self.inputs.get(entry.name) or entry.score_json or {}
        title = f"Initial score of {entry.name} ({entry.score_type})"
        if entry.score_kept:  # a lock, a generator...: no JSON form, each run gets the cadence's own
            title += f"\nnot JSON, taken from the cadence: {', '.join(entry.score_kept)}"
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

        def chosen(run_id: int | None) -> None:
            if run_id is not None:
                self.open_past_run(run_id)

        self.app.push_screen(
            HistoryDialog(runs, where=_relative(history.path, self.project), problem=problem), chosen
        )

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

    def _show_past_run(self, record: RunRecord, run_id: int, when: str) -> None:
        session = self.session
        if session.run is not None and not session.run.finished:
            self.notify(
                "a run is going on: stop it (x) or let it end, then open a past run", severity="warning"
            )
            return
        if record.entry not in {e.name for e in session.entries}:
            self.notify(
                f"{record.entry} is no longer in {session.target}; "
                f"`cadence-studio history show {run_id}` prints the run",
                title="History",
                severity="warning",
                timeout=10,
            )
            return
        session.selected = record.entry
        session.run = record
        self.focus_node = None
        self._fill_cadences()
        self._dirty |= {"graph", "inspector", "timeline", "status"}
        self.receive()
        self.notify(
            f"run #{run_id} of {when}: select a note to see the score after it", title="History", timeout=4
        )

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

        self.app.push_screen(NewNoteDialog(), done)

    @work(thread=True, group="scaffold")
    def scaffold_note(self, directory: Path, options: dict[str, Any]) -> None:
        from ..errors import ScaffoldError
        from ..scaffold import new_note

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
        self.app.push_screen(CodeDialog(f"Created {', '.join(name for name, _ in shown)}", shown, hint))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
