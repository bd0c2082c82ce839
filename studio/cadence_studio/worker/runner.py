"""The worker's loop: the only process that runs the user's code.

``python -m cadence_studio.worker TARGET [--cwd DIR]`` imports the target, describes its
cadences and runs them under a stepping controller, driven by commands on stdin. It answers on
its original stdout (see :mod:`cadence_studio.protocol`). Both pipes are moved off fds 0 and 1
before the user's code runs (see :mod:`cadence_studio.worker._io`): ``input()`` gets EOF, and
whatever the user's code prints is sent as ``log`` messages, so it can never corrupt the protocol.
A ``sys.exit()`` in the user's code fails what it was doing (the import, a note, a factory); the
worker goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cadence import Cadence, CheckpointError, Waypoint
from cadence.events import Event, RunFinished

from .. import protocol as p
from ..errors import LoadError, StudioError, TargetError
from ..memory import give_back_memory
from ..protocol.target import parse_target
from . import remote
from ._io import Channel, guard_parent, isolate_stdio, read_commands, serve_loop
from .catalog import catalog_entry, display, factory_args, tree, warm_up
from .durable import plan_rerun, score_before, store_for, top_measure
from .loader import Found
from .plugins import load_target
from .run_events import EventSender
from .score_copy import fresh_score
from .score_input import ScoreInputError, input_json, score_from_input
from .tracebacks import USER_ERRORS, error_info
from .values import expand
from .watching import WatchingController, check_watches

__all__ = ["Worker", "main"]

GIVE_BACK_AFTER = 0.25  # seconds after a run's end: its memory is given back (see _closing)
WARM_UP_AFTER = 0.3  # seconds after the catalog: the UI draws its first screen meanwhile


class Worker:
    """Holds the loaded module and at most one run at a time."""

    def __init__(self, target: str, channel: Channel, cwd: Path) -> None:
        self.target_text = target
        self.channel = channel
        self.cwd = cwd
        self.found: dict[str, Found] = {}
        self.plugins: list[p.PluginStatus] | None = None  # how each plugin loaded, for a plugin target
        self.run_no = 0
        self.task: asyncio.Task[None] | None = None
        self.controller: WatchingController | None = None
        self.breakpoints: set[str] = set()
        self.watches: list[p.Watch] = []  # data breakpoints, kept for later runs like breakpoints
        self.live: Any = None  # the score "more" is loaded from: the paused one, or the last result
        self._reported: list[str] = []  # the held waypoints the UI was last told about
        self.events: EventSender | None = None  # the current run's listener
        self._after: asyncio.Task[None] | None = None  # the check after the last step (issue 18)

    # ------------------------------------------------------------------ loading

    def load(self) -> bool:
        try:
            loaded = load_target(parse_target(self.target_text), cwd=self.cwd)
        except (LoadError, TargetError) as error:
            cause = error.__cause__ or error
            info = error_info(cause)
            if not isinstance(cause, SyntaxError):
                info = info.model_copy(update={"message": str(error)})
            self.channel.send(
                p.LoadFailed(target=self.target_text, error=info, hint=getattr(error, "hint", ""))
            )
            return False
        self.found = {f.name: f for f in loaded.found}
        self.plugins = loaded.plugins
        self.channel.send(
            p.Ready(target=self.target_text, module=loaded.label, file=loaded.file, pid=os.getpid())
        )
        for broken in loaded.broken:  # the others loaded: the log says what this one did
            assert broken.error is not None
            text = f"plugin {broken.name!r} ({broken.package}): {broken.error.message}\n"
            self.channel.send(p.Log(stream="worker", text=text))
        self.send_catalog()
        return True

    def send_catalog(self) -> None:
        entries = [catalog_entry(f) for f in self.found.values()]
        self.channel.send(p.Catalog(entries=entries, plugins=self.plugins))

    # ------------------------------------------------------------------ running

    def _cadence_for(self, run: p.Run) -> Cadence[Any]:
        found = self.found.get(run.target)
        if found is None:
            names = ", ".join(map(repr, self.found)) or "none"
            msg = f"no cadence {run.target!r} here (found: {names})"
            raise StudioError(msg)
        if found.kind == "cadence":
            return found.obj  # type: ignore[no-any-return]
        made = found.obj(**factory_args(found.obj, run.args))
        if not isinstance(made, Cadence):
            msg = f"{found.name}() returned {type(made).__name__}, not a Cadence"
            raise StudioError(msg)
        return made

    async def start(self, run: p.Run) -> None:
        await self.stop()
        self.run_no += 1
        number = self.run_no
        durable = run.durable
        try:
            cadence = self._cadence_for(run)
            score = self._start_score(cadence, run)
            reused = _reused(cadence, durable)
            watches = check_watches(run.watches, score)
        except (StudioError, ScoreInputError, CheckpointError) as error:
            self.channel.send(p.WorkerError(message=str(error)))
            self.channel.send(p.RunEnded(run=number, status="refused", error=error_info(error)))
            return
        except USER_ERRORS as error:  # the user's factory or score raised
            self.channel.send(
                p.WorkerError(message=f"could not start {run.target!r}: {error}", error=error_info(error))
            )
            self.channel.send(p.RunEnded(run=number, status="failed", error=error_info(error)))
            return
        began = p.RunBegan(
            run=number,
            target=run.target,
            graph=cadence.describe(),
            args=run.args,
            score=run.score,
            checkpoint=durable.run_id if durable is not None else None,
            reused=reused,
        )
        if durable is None:
            self.channel.send(began)
        self.breakpoints = set(run.breakpoints)
        self.watches = watches
        self._reported = []
        self.controller = WatchingController(
            breakpoints=self.breakpoints,
            pause_at_start=run.pause_at_start,
            on_pause=self._paused(number),
            watches=watches,
            on_failed=self._watch_failed(number),
        )
        events = self.events = EventSender(number, self.channel.send, stall_ms=run.stall_ms)
        began_later = None if durable is None else began
        running = self._run(number, cadence, score, self.controller, events, durable, began_later)
        self.task = asyncio.create_task(_closing(events, running))

    def _start_score(self, cadence: Cadence[Any], run: p.Run) -> Any:
        """The score a run starts on: none for a resume (the checkpoint's), the base run's score before
        the measure a re-run starts at (or the edited one), the input, or the cadence's own."""
        durable = run.durable
        if durable is not None and durable.resume:
            return None
        if durable is not None and durable.base is not None and durable.start_at is not None:
            base = score_before(store_for(durable.store), cadence, durable.base, durable.start_at)
            return base if run.score is None else self._input_score(cadence, run.score, base=base)
        if run.score is not None:
            return self._input_score(cadence, run.score)
        score, notes = fresh_score(cadence.get_score())
        for note in notes:
            self.channel.send(p.Log(stream="worker", text=f"note: {note}\n"))
        return score

    def _paused(self, number: int) -> Any:
        def on_pause(point: Waypoint) -> None:
            held = self.controller.held if self.controller else [point]
            self._held()
            self._report_pause(number, held)

        return on_pause

    def _watch_failed(self, number: int) -> Any:
        def failed(watch: p.Watch, node_id: str, error: str) -> None:
            self.channel.send(p.WatchFailed(run=number, watch=watch, node_id=node_id, error=error))

        return failed

    def _report_pause(self, number: int, held: list[Waypoint]) -> None:
        """Tell the UI where the run is held: the oldest held waypoint is the one a step releases."""
        if not held:
            return
        first = held[0]
        ids = [h.node_id for h in held]
        if ids == self._reported:
            return
        self._reported = ids
        self.live = first.score
        hits = (
            self.controller.hits.get(first.node_id, []) if self.controller and first.kind == "after" else []
        )
        self.channel.send(
            p.Paused(
                run=number,
                kind=first.kind,
                node_id=first.node_id,
                name=first.name,
                held=ids,
                score=tree(first.score),
                watch=hits[0] if hits else None,
                also=hits[1:],
            )
        )

    def _held(self) -> None:
        """Tell the run's clock whether the controller holds the run now."""
        if self.events is not None:
            self.events.held(bool(self.controller and self.controller.held))

    async def _after_step(self) -> None:
        """After a step: if other parallel notes are still held, say so (no new pause may come)."""
        await asyncio.sleep(0.02)
        ctl = self.controller
        if ctl is not None and ctl.held and self.task is not None and not self.task.done():
            self._report_pause(self.run_no, ctl.held)

    async def _run(
        self,
        number: int,
        cadence: Cadence[Any],
        score: Any,
        controller: WatchingController,
        events: EventSender,
        durable: p.Durable | None = None,
        began: p.RunBegan | None = None,
    ) -> None:
        """Run (or resume) ``cadence``; a checkpointed run's ``began`` is sent with its first event, so
        that a resume the engine refuses (a finished run, a changed structure) records no run."""
        final: dict[str, Any] = {}
        pending = [began] if began is not None else []

        def send_began() -> None:
            while pending:
                self.channel.send(pending.pop())

        def listener(event: Event) -> None:
            send_began()
            events(event)
            if isinstance(event, RunFinished) and event.depth == 0:
                final["status"] = event.status
                final["error"] = event.error
                final["duration"] = event.duration  # the run's own time: time held paused left out

        start = time.perf_counter()
        self.live = score
        try:
            if durable is None:
                result = await cadence.run(score, controller=controller, listeners=[listener])
            else:
                graph = began.graph if began is not None else None
                result = await self._durable_run(cadence, score, controller, listener, durable, graph)
        except CheckpointError as error:
            if pending:  # refused before it began
                self.channel.send(p.WorkerError(message=str(error)))
                self.channel.send(p.RunEnded(run=number, status="refused", error=error_info(error)))
                return
            send_began()
            self.channel.send(
                p.RunEnded(run=number, status="failed", score=tree(score), error=error_info(error))
            )
            return
        except asyncio.CancelledError:
            send_began()
            self.channel.send(
                p.RunEnded(
                    run=number,
                    status="stopped",
                    score=tree(score if score is not None else self.live),
                    duration=final.get("duration", time.perf_counter() - start),
                )
            )
            raise
        except USER_ERRORS as error:  # sys.exit() in a note fails the note, not the worker
            send_began()
            self.channel.send(
                p.RunEnded(
                    run=number,
                    status="failed",
                    score=tree(score if score is not None else self.live),
                    error=error_info(error),
                    duration=final.get("duration", time.perf_counter() - start),
                )
            )
            return
        handled = final.get("error")
        self.live = result
        self.channel.send(
            p.RunEnded(
                run=number,
                status=final.get("status", "done"),
                score=tree(result),
                error=error_info(handled) if handled is not None else None,
                duration=final.get("duration", time.perf_counter() - start),
            )
        )

    async def _durable_run(
        self,
        cadence: Cadence[Any],
        score: Any,
        controller: WatchingController,
        listener: Any,
        durable: p.Durable,
        graph: dict[str, Any] | None = None,
    ) -> Any:
        store = store_for(durable.store)
        if durable.resume:
            store.follow(durable.run_id, cadence, resume=True, graph=graph)
            return await cadence.resume(durable.run_id, store, controller=controller, listeners=[listener])
        store.follow(durable.run_id, cadence, graph=graph)
        return await cadence.run(
            score,
            controller=controller,
            listeners=[listener],
            checkpoint=store,
            run_id=durable.run_id,
            start_at=durable.start_at,
        )

    def _plan(self, command: p.PlanRerun) -> p.RerunPlan:
        try:
            cadence = self._cadence_for(p.Run(target=command.target, args=command.args))
            start_at, reused, will_run, score = plan_rerun(
                store_for(command.store), cadence, command.base, command.node_id
            )
        except (StudioError, CheckpointError) as error:
            return p.RerunPlan(node_id=command.node_id, error=str(error))
        except USER_ERRORS as error:
            return p.RerunPlan(node_id=command.node_id, error=f"{type(error).__name__}: {error}")
        return p.RerunPlan(
            node_id=command.node_id,
            start_at=start_at,
            reused=reused,
            will_run=will_run,
            score_json=input_json(score),
        )

    def _check_score(self, command: p.CheckScore) -> p.ScoreChecked:
        try:
            cadence = self._cadence_for(p.Run(target=command.target))
            self._input_score(cadence, command.score)
        except ScoreInputError as error:
            return p.ScoreChecked(target=command.target, error=str(error), fields=list(error.fields))
        except USER_ERRORS as error:
            return p.ScoreChecked(target=command.target, error=str(error))
        return p.ScoreChecked(target=command.target)

    def _input_score(self, cadence: Cadence[Any], data: dict[str, Any], *, base: Any = None) -> Any:
        """``data`` validated against the score type; fields JSON cannot give come from ``base`` (a
        re-run's score) or a fresh copy of the cadence's own."""
        if base is None:
            base = cadence.get_score()
        if base is None:
            msg = f"cadence {cadence.name!r} has no score type to validate the input against"
            raise StudioError(msg)
        return score_from_input(base, data)

    def _expand(self, command: p.Expand) -> p.Expanded:
        if self.live is None:
            return p.Expanded(path=command.path, offset=command.offset, error="no score to load from yet")
        try:
            part = expand(display(self.live), command.path, offset=command.offset)
        except KeyError as error:
            return p.Expanded(path=command.path, offset=command.offset, error=str(error.args[0]))
        return p.Expanded(path=command.path, offset=command.offset, tree=part)

    def _set_watches(self, watches: list[p.Watch]) -> None:
        ctl = self.controller
        running = ctl is not None and self.task is not None and not self.task.done()
        try:
            self.watches = check_watches(watches, self.live if running else None)
        except StudioError as error:
            self.channel.send(p.WorkerError(message=str(error)))
            return
        if ctl is not None:
            ctl.watches = self.watches

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def handle(self, command: p.Command) -> bool:
        """Carry out one command; False means shut down."""
        ctl = self.controller
        match command:
            case p.Run():
                await self.start(command)
            case p.Step() | p.StepOver():
                if ctl:
                    self._reported = []
                    ctl.step() if isinstance(command, p.Step) else ctl.step_over()
                    self._held()
                    # the check beside the next commands: a step sent at the next pause is read at once
                    if self._after is not None:
                        self._after.cancel()
                    self._after = asyncio.create_task(self._after_step())
            case p.Continue():
                if ctl:
                    self._reported = []
                    ctl.resume()
                    self._held()
            case p.SetBreakpoints():
                self.breakpoints = set(command.ids)
                if ctl:
                    ctl.breakpoints = set(command.ids)
            case p.SetWatches():
                self._set_watches(command.watches)
            case p.Stop():
                await self.stop()
            case p.Describe():
                self.send_catalog()
            case p.Expand():
                self.channel.send(self._expand(command))
            case p.CheckScore():
                self.channel.send(self._check_score(command))
            case p.PlanRerun():
                self.channel.send(self._plan(command))
            case p.PrepareStart():
                self.channel.send(remote.prepare_start(command, self._cadence_for, self._start_score))
            case p.RenderScore():
                self.channel.send(remote.render_score(command, self._cadence_for))
            case p.Shutdown():
                await self.stop()
                return False
        return True


async def serve(worker: Worker, commands: int, closed: threading.Event) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def put(item: bytes | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def eof() -> None:
        put(None)
        closed.set()

    threading.Thread(target=read_commands, args=(commands, put, eof), daemon=True, name="commands").start()
    loop.call_later(WARM_UP_AFTER, warm_up, list(worker.found.values()))
    while (line := await queue.get()) is not None:
        try:
            command = p.decode_command(line)
        except ValidationError as error:
            worker.channel.send(
                p.WorkerError(message=f"bad command {line[:200]!r}: {error.errors()[0]['msg']}")
            )
            continue
        if not await worker.handle(command):
            break
    await worker.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cadence_studio.worker")
    parser.add_argument("target")
    parser.add_argument("--cwd", default=".")
    args = parser.parse_args(argv)
    closed = guard_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the UI, which ends its worker itself
    commands, channel = isolate_stdio()
    worker = Worker(args.target, channel, Path(args.cwd).resolve())
    if worker.load():
        p.prepare()  # the UI has the catalog: build the protocol's models now, not at the first step
        serve_loop(serve(worker, commands, closed))


if __name__ == "__main__":
    main()


def _reused(cadence: Cadence[Any], durable: p.Durable | None) -> list[str]:
    """The top-level measures a re-run from a note takes from its base run (before ``start_at``)."""
    if durable is None or durable.resume or durable.start_at is None:
        return []
    start_at, tops = top_measure(cadence, durable.start_at)
    return tops[: tops.index(start_at)]


async def _closing(events: EventSender, run: Coroutine[Any, Any, None]) -> None:
    """Await ``run``; then its listener stops watching the loop, however the run ended."""
    try:
        await run
    finally:
        events.close()
        # The run's events and score trees are freed: the worker shrinks back, once the studio has
        # drawn the answer (a collection over a 10,000-note cadence takes 25 ms of a CPU it paints with).
        asyncio.get_running_loop().call_later(GIVE_BACK_AFTER, give_back_memory)
