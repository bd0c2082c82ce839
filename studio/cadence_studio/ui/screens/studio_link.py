"""The studio screen's link to its worker: start it, apply what it sends, redraw at a pace, reload.

Every message goes through :meth:`StudioLink.receive` into the session, and the parts it changed are
redrawn, at most as often as drawing allows. A changed module starts a new worker (see :meth:`reload`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from textual import work
from textual.timer import Timer
from textual.widgets import TabbedContent

from ... import protocol as p
from ...memory import keep_long_lived, release_collection, stop_keeping
from ...protocol.session import RunRecord, Session
from ...store.history import STOPPED_BY_RELOAD, History
from ...store.recorder import Recorder
from ..client import Client, exit_reason
from ..widgets.gantt import Gantt
from ..widgets.measure_graph import MeasureGraph
from ..widgets.score_tree import ScoreTree
from ..widgets.timeline import Timeline
from .studio_view import StudioView

__all__ = ["StudioLink"]

DRAW_WAIT_FACTOR = 3.0  # after a redraw that took t, the next waits 3t (the screen keeps up with any run)
MAX_DRAW_WAIT = 1.0
RUN_DRAWS_PER_S = 20  # a running run's screen is drawn at most this often (each draw is a frame)
PANELS_EVERY = 0.25  # seconds: while a run goes on, the inspector, Gantt and events are drawn this often
_PANELS = frozenset({"inspector", "timeline", "log"})
#: seconds: an answer's status line is painted alone, the rest of its redraw this long after (Textual
#: paints at most every 1/60 s, and a screen told of a change waited up to 22 ms for its next frame)
ANSWER_REST_AFTER = 0.04
LONG_RUN_NOTES = 1000  # notes done: a run that ends after as many paints "done"/"stopped" first
PACE_ABOVE = 0.02  # seconds: redraws cheaper than this follow every batch at once
STATUS_EVERY = 0.1  # seconds: between paced redraws, the status line (cheap) still follows the run
#: seconds: what start-up puts off (garbage collection, see cadence_studio.memory; the protocol's
#: models) happens once the first catalog has been drawn, or after this long if none comes
SETTLE_AFTER = 5.0
BUILD_EVERY = 0.01  # seconds: after the first graph, one protocol model is built this often until all are
FREEZE_EVERY = 0.5  # seconds: while a run goes on, what is drawn leaves the collector's passes this often
_ANSWERS = (p.Paused, p.RunEnded, p.WorkerExited, p.LoadFailed)


class StudioLink(StudioView):
    """The screen's state and its worker's messages; :class:`~.studio.StudioScreen` adds the keys."""

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
        self._panels_due = 0.0  # while a run goes on, the panels are drawn again from then on
        self._rest_after = 0.0  # an answer's status line is painted alone until then
        self._status_at = 0.0  # when the status line was last written
        self._draw_cost = 0.0  # seconds the last redraw took
        self._frozen_at = 0.0  # when what was drawn last left the garbage collector's passes
        self._hold_until = 0.0
        self._running_timer: Timer | None = None
        self._timeline_run: RunRecord | None = None  # the run the timeline shows
        self._timeline_due = False  # the timeline is drawn after the frame now being painted
        self._reloading: str | None = None  # why the worker is being replaced, until it has loaded
        self._steps_queued = 0  # n pressed while a step was still running: sent at each pause
        self._watching = False  # the user's files are watched (from when the first graph is shown)
        self._building: Timer | None = None  # builds the protocol's models one by one after the first graph

    # ------------------------------------------------------------------ lifecycle

    async def on_mount(self) -> None:
        self.title = "Cadence Studio"
        self.sub_title = _shown_target(self.session.target)
        self.query_one("#inspector", TabbedContent).border_title = "Inspector"
        self.query_one("#timeline", Gantt).border_title = "Timeline"
        self.query_one("#graph", MeasureGraph).border_title = "Graph"
        self._status("starting the worker…")
        self.set_timer(SETTLE_AFTER, self._started)
        await self.client.start()
        self.pump()

    def on_unmount(self) -> None:
        stop_keeping()  # what this screen drew goes back to the garbage collector with it

    @work(exclusive=True, group="pump")
    async def pump(self) -> None:
        async for message in self.client.messages():
            if not self._on_screen:
                return  # the app is closing: its widgets are being taken down, nothing to draw
            # Everything already queued is applied first and drawn once: a fast run sends
            # thousands of events, and the screen should follow them, not replay each.
            self.receive(message, *self.client.pending())
            await asyncio.sleep(0)  # let keys (x, q) in between batches

    @property
    def _on_screen(self) -> bool:
        """Whether this screen and its widgets are still there to draw on (not while the app closes)."""
        return self.is_attached and not (self._closing or self._pruning)

    def receive(self, *messages: p.Message) -> None:
        """Apply worker messages in order; redraw what they changed, at most as often as drawing allows.

        Drawing a big graph takes a while: the next redraw waits a few times that long, so a fast run
        of thousands of notes is followed, not replayed event by event (the messages keep flowing).
        After a step, the events before the pause wait a moment for it, so that one paint shows them all.
        """
        answered = long_end = False
        for message in messages:
            self._dirty |= self._apply(message)
            if isinstance(message, _ANSWERS):
                self._hold_until = 0.0
                answered = True
                run = self.session.run
                long_end = long_end or (
                    not isinstance(message, p.Paused)
                    and run is not None
                    and len(run.finished_order) >= LONG_RUN_NOTES
                )
        now = time.perf_counter()
        if answered and self._dirty and (long_end or self._draw_cost > PACE_ABOVE):
            # A pause, an end or a dead worker is shown at once, pacing or not: the status line in
            # the next frame, the rest (a big graph takes a while; at the end of a long run, the
            # score, the Gantt chart and the events all at once) once that frame is out. A small
            # cadence's answer is one frame.
            # (Not "after refresh": the status line tells the screen it changed a message later,
            # and the screen, idle meanwhile, would run the rest first and paint both at once.)
            self._cancel_draw()
            self._status_at = now
            self._update_status()
            self._draw_due = self._rest_after = now + ANSWER_REST_AFTER
            self._draw_timer = self.set_timer(ANSWER_REST_AFTER, self._draw_dirty)
            return
        # (what comes after an answer waits for its rest too: the answer's status line goes alone)
        due = now if answered else max(self._next_draw, self._hold_until, self._rest_after)
        wait = due - now
        if wait <= 0:
            self._cancel_draw()
            self._draw_dirty()
            return
        if self._draw_timer is None or due < self._draw_due:
            self._cancel_draw()
            self._draw_due = due
            self._draw_timer = self.set_timer(wait, self._draw_dirty)
        if now - self._status_at >= STATUS_EVERY and now >= self._hold_until and self._dirty:
            # The big redraw waits its turn; the status line (the note and the count) does not.
            self._status_at = now
            self._update_status()

    def _started(self) -> None:
        """What start-up put off, once the first graph is on screen: garbage collection, the watcher
        of the user's files and the protocol's models (a first step needs five: 7 ms of the first n
        when built as its messages came; all at once here would hold up a key pressed at once by 15 ms,
        so one at a time, each 2 ms at most, the screen idle in between)."""
        release_collection()
        if self.watch_dir is not None and not self._watching:
            self._watching = True
            self.watch_files()
        if self._building is None:
            self._building = self.set_interval(BUILD_EVERY, self._build_next)

    def _build_next(self) -> None:
        if not p.build_next() and self._building is not None:
            self._building.stop()

    def _cancel_draw(self) -> None:
        if self._draw_timer is not None:
            self._draw_timer.stop()
            self._draw_timer = None

    @property
    def _recorder(self) -> Recorder | None:
        """What records this worker's runs into the run history (None when runs are not recorded)."""
        recorder = getattr(self.client, "recorder", None)
        return recorder if isinstance(recorder, Recorder) else None

    @property
    def up_to_date(self) -> bool:
        """Whether everything received has been drawn (no redraw waiting)."""
        return not self._dirty and self._draw_timer is None and not self._timeline_due

    def _draw_dirty(self) -> None:
        self._draw_timer = None
        changed, self._dirty = self._dirty, set()
        started = time.perf_counter()
        run = self.session.run
        if run is not None and run.status == "running" and changed & _PANELS:
            # While a run goes on, the graph and the status line follow it; the panels beside and
            # below them (the score, the Gantt chart, the event list: the costliest to paint) a few
            # times a second. A key pressed meanwhile waits for fewer, cheaper frames (issue 18).
            if started < self._panels_due:
                self._dirty, changed = changed & _PANELS, changed - _PANELS
            else:
                self._panels_due = started + PANELS_EVERY
        self._redraw(changed)
        done = time.perf_counter()
        cost = self._draw_cost = done - started
        if "catalog" in changed:  # the first graph (or the load error) is drawn: painted next
            self.call_after_refresh(self._started)
        if run is not None and not run.finished and done - self._frozen_at >= FREEZE_EVERY:
            # A run's states so far stay while on screen, and a full collection walking them all
            # would hold the screen (see cadence_studio.memory; a new graph is kept once drawn).
            self._frozen_at = done
            keep_long_lived()
        # Cheap draws (small cadences) are never held back; costly ones space themselves out, and
        # a long run's, however cheap, come at most RUN_DRAWS_PER_S times a second.
        wait = DRAW_WAIT_FACTOR * cost if cost > PACE_ABOVE else 0.0
        if run is not None and run.status == "running" and run.finished_order:
            wait = max(wait, 1.0 / RUN_DRAWS_PER_S)
        self._next_draw = time.perf_counter() + min(MAX_DRAW_WAIT, wait)
        if self._dirty:  # panels put off: drawn when due, even if the run sends nothing more by then
            due = max(self._next_draw, self._panels_due)
            self._draw_due = due
            self._draw_timer = self.set_timer(max(0.0, due - time.perf_counter()), self._draw_dirty)

    def _redraw(self, changed: set[str]) -> None:
        if changed & {"status", "graph", "catalog"}:  # first: its repaint is asked for first
            self._status_at = time.perf_counter()
            self._update_status()
        if "graph" in changed or "catalog" in changed:
            self._draw_graph()
        if "inspector" in changed:
            self._show_inspector()
        run = self.session.run
        if "timeline" in changed and run is not None:
            if run.status == "paused" and changed & {"graph", "inspector", "status"}:
                # A step's answer (where it paused, the score) is painted first; the timeline, a
                # full-width chart scaled anew at every step, in the frame after it (issue 18).
                if not self._timeline_due:
                    self._timeline_due = True
                    self.call_after_refresh(self._draw_timeline)
            else:
                self._draw_timeline()
        if "log" in changed:
            log = self.query_one("#log", Timeline)
            log.sync([("", text.rstrip("\n"), "") for _, text in self.session.logs])

    def _draw_timeline(self) -> None:
        """The run's timeline (the Gantt chart) and its event lines."""
        self._timeline_due = False
        run = self.session.run
        if run is None or not self._on_screen:
            return
        self.query_one("#timeline", Gantt).show(run.spans, live=not run.finished and run.recorded is None)
        events = self.query_one("#events", Timeline)
        if self._timeline_run is not run:  # a new run: its events start over
            events.reset()
            self._timeline_run = run
        events.sync(run.timeline)

    def _apply(self, message: p.Message) -> set[str]:
        """One message into the session, plus what it asks of the screen besides redrawing."""
        changed = self.session.apply(message)
        if self._reloading is not None and isinstance(message, (p.Ready, p.LoadFailed, p.WorkerExited)):
            self._reloaded(message)
        if isinstance(message, p.Catalog):
            self._fill_cadences()
            self._plugin_notice(message.plugins or [])
            # Once drawn, what the screen holds lives as long as the module: out of the collector's
            # scans (a full collection of a 1,000-note screen took 50-100 ms, in the middle of a step).
            self.call_after_refresh(keep_long_lived, replacing=True)
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

    def _plugin_notice(self, plugins: list[p.PluginStatus]) -> None:
        """Installed plugins that could not be loaded (the others are shown): one notice naming each."""
        broken = [q for q in plugins if q.error is not None]
        if not broken:
            return
        lines = []
        for plugin in broken:
            assert plugin.error is not None
            error = plugin.error
            where = f" ({Path(error.file).name}:{error.line})" if error.file and error.line else ""
            lines.append(f"{plugin.name} ({plugin.package}): {error.message}{where}")
        self.notify(
            "\n".join(lines) + "\nThe log tab has them too; cadence-studio list --installed details them.",
            title=f"{len(broken)} plugin{'s' if len(broken) > 1 else ''} could not be loaded",
            severity="warning",
            timeout=20,
        )

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
        self.query_one("#timeline", Gantt).show(None, live=False)
        self.query_one("#events", Timeline).reset()
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
        recorder = self._recorder
        if recorder is not None:
            recorder.end_run(STOPPED_BY_RELOAD, f"the studio reloaded the module ({why}) while it ran")
        where = "; open it with h" if recorder is not None else ""
        self.notify(
            f"the {run.status} run of {run.entry} was stopped by the reload{where}",
            title="Run stopped",
            severity="warning",
            timeout=10,
        )

    def _expanded(self, message: p.Expanded) -> None:
        if message.error is not None or not isinstance(message.tree, dict):
            self.notify(message.error or "nothing to load", severity="warning")
            return
        self.query_one("#score-tree", ScoreTree).add_more(message.path, message.offset, message.tree)


def _shown_target(target: str) -> str:
    """The target as the title bar says it: ``@`` is the installed plugins, ``@NAME`` one of them."""
    if target == "@" or target.startswith("@:"):
        return "installed plugins" + target[1:]
    return f"plugin {target[1:]}" if target.startswith("@") else target
