"""Run control of the studio screen: run, step, step over, continue, breakpoints, stop.

A step's events are held a moment for its pause, so that one paint shows them all; "running" shows
only if the run has not paused again by then; a stop that is not honoured replaces the worker.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual.actions import SkipAction

from ... import protocol as p
from ...memory import give_back_memory
from ...store.checkpoints import new_run
from ..widgets.measure_graph import MeasureGraph
from .studio_link import StudioLink

__all__ = ["RunControls"]

STOP_GRACE = 1.0  # seconds a stopped run may take before its worker is replaced
STOPPED_BY_USER = "stopped by the user (x); the worker was replaced"  # why, in the run history
# A resumed run says "running" only if it has not paused again by then: a step that takes no time
# shows no flash of "running", and its reply is painted at once instead of after the next frame.
RUNNING_SHOWN_AFTER = 0.05
STEP_HOLD = 0.03  # seconds the events of a step may wait for its pause, to be painted with it
# A run started paused (n) shows nothing but its first pause, unless the worker takes longer: a frame
# of "running" in between delayed the pause's frame by a frame (issue 18: the first n).
START_HOLD = 0.1
GIVE_BACK_AFTER = 0.5  # seconds after a run's end (its last screen drawn) to return freed memory


class RunControls(StudioLink):
    """The keys that drive a run; steps pressed while one runs are sent at its pauses."""

    # r / n pressed before the worker has listed the module's cadences: the run starts once it has
    # (whether it starts paused); None when nothing waits.
    _start_queued: bool | None = None
    #: the checkpoint id of the last run started here (to find its number in the run history)
    last_checkpoint: str | None = None

    def _apply(self, message: p.Message) -> set[str]:
        changed = super()._apply(message)
        if self._start_queued is not None and isinstance(message, (p.Catalog, p.LoadFailed, p.WorkerExited)):
            pause, self._start_queued = self._start_queued, None
            if isinstance(message, p.Catalog):
                self.run_worker(self._start(pause_at_start=pause), group="start")
        run = self.session.run
        if isinstance(message, p.Paused) and self._steps_queued and run and run.number == message.run:
            self._steps_queued -= 1
            self.session.resumed()
            self._hold_draws()
            self.run_worker(self.client.send(p.Step()), group="step")
        elif isinstance(message, (p.RunEnded, p.WorkerExited, p.LoadFailed)):
            self._steps_queued = 0
            if isinstance(message, p.RunEnded):  # once it is drawn: what the run freed goes back
                self.set_timer(GIVE_BACK_AFTER, lambda: give_back_memory(refreeze=True))
        return changed

    def _hold_draws(self, hold: float | None = None) -> None:
        """The run was resumed: hold what it sends until it pauses or ends, for ``STEP_HOLD`` at most."""
        hold = STEP_HOLD if hold is None else hold
        self._hold_until = time.perf_counter() + hold
        self._show_running_soon(max(hold, RUNNING_SHOWN_AFTER))

    def _show_running_soon(self, after: float | None = None) -> None:
        """Say "running" after a moment, unless the run has paused or ended by then."""
        if self._running_timer is not None:
            self._running_timer.stop()

        def show() -> None:
            self._running_timer = None
            run = self.session.run
            if run is not None and run.status == "running":
                self._update_status()

        self._running_timer = self.set_timer(RUNNING_SHOWN_AFTER if after is None else after, show)

    async def _start(
        self,
        *,
        pause_at_start: bool,
        durable: p.Durable | None = None,
        score: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> None:
        """Start a run of the selected cadence: a new checkpointed one, or (``durable``) a resume or a
        re-run, with ``score`` and ``args`` instead of the ones given with i and a."""
        entry = self.session.entry
        if entry is None and not self.session.entries and self.session.load_error is None:
            self._start_queued = pause_at_start  # still loading: start once the cadences are listed
            self.notify(f"loading {self.session.target}… the run starts once it has loaded", timeout=3)
            return
        if entry is None:
            self.notify("no cadence selected", severity="warning")
            return
        if entry.kind == "factory" and entry.graph is None and entry.name not in self.args:
            from .dialogs import ArgsDialog  # (dialogs are imported when first opened)

            self.app.push_screen(ArgsDialog(entry, {}), self._args_given(pause_at_start))
            return
        self.runs_sent += 1
        self._steps_queued = 0
        self.session.begin_run(self.runs_sent, entry.name)
        if durable is None:
            durable = new_run(self.history if self._recorder is not None else None)
            score = self.inputs.get(entry.name)
        self.last_checkpoint = durable.run_id if durable is not None else None
        await self.client.send(
            p.Run(
                target=entry.name,
                args=self.args.get(entry.name, {}) if args is None else args,
                score=score,
                breakpoints=sorted(self.session.breakpoints),
                watches=list(self.session.watches),
                pause_at_start=pause_at_start,
                durable=durable,
            )
        )
        # The new run's graph, timeline and status are drawn with its first pause (or end), as a step's are.
        self._dirty |= {"graph", "timeline", "status"}
        self._hold_draws(START_HOLD if pause_at_start else None)
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

    async def action_stop_key(self) -> None:
        """x: a priority key, heard before it travels the focused widget's chain (a widget that takes
        typed keys, the open cadence picker, still has it: Textual leaves out the bindings of keys
        the focused widget consumes). With nothing to stop, it goes on to the focused widget."""
        run = self.session.run
        if run is None or run.finished:
            raise SkipAction()
        await self.action_stop()

    async def action_stop(self) -> None:
        run = self.session.run
        self._steps_queued = 0
        if run is None or run.finished:
            return
        await self.client.send(p.Stop())
        # Stop first, then drain: what the worker sent before it stopped is applied but not drawn
        # until its answer (run_ended), which is then drawn at once: a paced redraw already due (a big
        # graph's takes a while) would come between x and "stopped".
        self._hold_until = time.perf_counter() + STOP_GRACE
        self._cancel_draw()
        # The grace period runs apart from the key's handler: the screen keeps drawing meanwhile, so
        # "stopped" shows as soon as the worker says so, not after the grace.
        self.run_worker(self._replace_if_stuck(run.number), group="stop")

    async def _replace_if_stuck(self, number: int) -> None:
        """Replace the worker if run ``number`` has not stopped within ``STOP_GRACE``."""
        await asyncio.sleep(STOP_GRACE)
        if (
            self.session.run is not None
            and self.session.run.number == number
            and not self.session.run.finished
        ):
            # The run did not stop: a sync note that never returns holds the worker. Replace it.
            run = self.session.run
            run.status = "stopped"
            run.timeline.append(("yellow", "■ the worker did not stop in time; it was replaced", ""))
            run.spans.close()  # the note it was in ends on the Gantt too
            self.runs_sent = 0
            recorder = self._recorder
            if recorder is not None:  # its worker never says how it ended: say it for it
                recorder.end_run("stopped", STOPPED_BY_USER)
            await self.client.restart()
            self.notify(
                "the run would not stop (a note never returned): started a new worker", severity="warning"
            )
            self._dirty |= {"graph", "inspector", "timeline", "status"}  # as a run's end is drawn
            self._cancel_draw()
            self._draw_dirty()
