"""The worker: the only process that runs the user's code.

``python -m cadence_studio.worker TARGET [--cwd DIR]`` imports the target, describes its
cadences and runs them under a stepping controller, driven by commands on stdin. It answers on
its original stdout (see :mod:`cadence_studio.protocol`). Both pipes are moved off fds 0 and 1
before the user's code runs (see :mod:`cadence_studio._worker_io`): ``input()`` gets EOF, and
whatever the user's code prints is sent as ``log`` messages, so it can never corrupt the protocol.
A ``sys.exit()`` in the user's code fails what it was doing (the import, a note, a factory); the
worker goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import os
import signal
import threading
import time
import traceback
import typing
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cadence import Cadence, Checkpoint, StepController
from cadence._fork import is_fork
from cadence.events import Event, RunFinished

from . import protocol as p
from ._worker_io import Channel, guard_parent, isolate_stdio, read_commands, serve_loop
from .errors import LoadError, StudioError, TargetError
from .loader import Found, find_cadences, import_target, parse_target
from .score_copy import fresh_score
from .score_input import (
    ScoreInputError,
    input_json,
    kept_fields,
    refuse_kept,
    score_schema,
    validate_score,
)
from .values import expand, value_tree

__all__ = ["Worker", "error_info", "main"]

#: What the user's code may raise without ending the worker (``sys.exit()`` fails a note instead).
USER_ERRORS = (Exception, SystemExit, KeyboardInterrupt)

_ENGINE_DIR = str(Path(__file__).resolve().parents[2] / "engine")
_SKIP_DIRS = (
    _ENGINE_DIR,
    str(Path(asyncio.__file__).parent),
    str(Path(importlib.__file__).parent),
    str(Path(__file__).resolve().parent),
)


def error_info(error: BaseException) -> p.ErrorInfo:
    """An exception as shown to the user, located at the deepest frame of the user's code."""
    cause: BaseException = getattr(error, "original_error", None) or error
    frames = traceback.extract_tb(cause.__traceback__)
    user = [f for f in frames if not f.filename.startswith(_SKIP_DIRS)]
    where = user[-1] if user else (frames[-1] if frames else None)
    file: str | None
    line: int | None
    if isinstance(cause, SyntaxError) and cause.filename:
        file, line = cause.filename, cause.lineno
    else:
        file, line = (where.filename, where.lineno) if where else (None, None)
    code = getattr(error, "code", None)
    return p.ErrorInfo(
        type=type(error).__qualname__,
        message=str(error),
        traceback=_user_traceback(cause),
        code=code if isinstance(code, str) else None,
        file=file,
        line=line,
    )


def _user_traceback(error: BaseException) -> str:
    """The traceback without the engine's, the studio's, asyncio's and importlib's frames."""
    shown = traceback.TracebackException.from_exception(error)
    for exc in _chain(shown):
        kept = [
            f
            for f in exc.stack
            if not f.filename.startswith(_SKIP_DIRS) and not f.filename.startswith("<frozen")
        ]
        exc.stack = traceback.StackSummary.from_list(kept)
    return "".join(shown.format())


def _chain(exc: traceback.TracebackException) -> list[traceback.TracebackException]:
    out, seen = [], set()
    current: traceback.TracebackException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def display(score: Any) -> Any:
    """Something to draw for a score: a ``.sync`` task's lazy view is shown without copying."""
    if not is_fork(score):
        return score
    shown = object.__new__(score.__class__)
    shown.__dict__.update(vars(score._cadence_base))
    shown.__dict__.update(vars(score))
    return shown


def tree(score: Any) -> Any:
    return None if score is None else value_tree(display(score))


def _factory_args(factory: Any, given: dict[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against the factory's signature with pydantic; messages name the parameter."""
    signature = inspect.signature(factory)
    try:
        hints = typing.get_type_hints(factory)
    except Exception:
        hints = {}
    unknown = sorted(set(given) - set(signature.parameters))
    if unknown:
        msg = f"{factory.__name__}() has no parameter(s) {', '.join(map(repr, unknown))}"
        raise ScoreInputError(msg, fields=unknown)
    args: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if name not in given:
            if param.default is inspect.Parameter.empty:
                msg = f"{factory.__name__}() needs the argument {name!r}"
                raise ScoreInputError(msg, fields=[name])
            continue
        try:
            args[name] = TypeAdapter(hints.get(name, Any)).validate_python(given[name])
        except ValidationError as error:
            problem = error.errors()[0]["msg"]
            msg = f"argument {name!r}: {problem} (got {given[name]!r})"
            raise ScoreInputError(msg, fields=[name]) from None
    return args


class Worker:
    """Holds the loaded module and at most one run at a time."""

    def __init__(self, target: str, channel: Channel, cwd: Path) -> None:
        self.target_text = target
        self.channel = channel
        self.cwd = cwd
        self.found: dict[str, Found] = {}
        self.run_no = 0
        self.task: asyncio.Task[None] | None = None
        self.controller: StepController | None = None
        self.breakpoints: set[str] = set()
        self.live: Any = None  # the score "more" is loaded from: the paused one, or the last result
        self._reported: list[str] = []  # the held checkpoints the UI was last told about

    # ------------------------------------------------------------------ loading

    def load(self) -> bool:
        try:
            target = parse_target(self.target_text)
            module = import_target(target, cwd=self.cwd)
            found = find_cadences(module, target.name, label=target.spec)
        except (LoadError, TargetError) as error:
            cause = error.__cause__ or error
            info = error_info(cause)
            if not isinstance(cause, SyntaxError):
                info = info.model_copy(update={"message": str(error)})
            self.channel.send(
                p.LoadFailed(target=self.target_text, error=info, hint=getattr(error, "hint", ""))
            )
            return False
        self.found = {f.name: f for f in found}
        self.channel.send(
            p.Ready(
                target=self.target_text,
                module=module.__name__,
                file=getattr(module, "__file__", None),
                pid=os.getpid(),
            )
        )
        self.send_catalog()
        return True

    def send_catalog(self) -> None:
        self.channel.send(p.Catalog(entries=[self._entry(f) for f in self.found.values()]))

    def _entry(self, found: Found) -> p.CadenceEntry:
        doc = inspect.getdoc(found.obj) if found.kind == "factory" else None
        params: list[p.Param] = []
        error = None
        cadence: Cadence[Any] | None = found.obj if found.kind == "cadence" else None
        if found.kind == "factory":
            for param in inspect.signature(found.obj).parameters.values():
                has_default = param.default is not inspect.Parameter.empty
                annotation = param.annotation
                params.append(
                    p.Param(
                        name=param.name,
                        annotation=None if annotation is inspect.Parameter.empty else str(annotation),
                        default=param.default if has_default and _jsonable(param.default) else None,
                        required=not has_default,
                    )
                )
            if all(not prm.required for prm in params):
                try:
                    cadence = found.obj()
                except USER_ERRORS as failure:
                    error = error_info(failure)
        if cadence is None:
            return p.CadenceEntry(name=found.name, kind=found.kind, doc=doc, params=params, error=error)
        score = cadence.get_score()
        return p.CadenceEntry(
            name=found.name,
            kind=found.kind,
            doc=doc,
            params=params,
            graph=cadence.describe(),
            score_type=cadence.score_type_name(),
            score=tree(score),
            score_json=input_json(score) if score is not None else None,
            score_kept=kept_fields(score) if score is not None else {},
            score_schema=score_schema(type(score)) if score is not None else None,
            error=error,
        )

    # ------------------------------------------------------------------ running

    def _cadence_for(self, run: p.Run) -> Cadence[Any]:
        found = self.found.get(run.target)
        if found is None:
            names = ", ".join(map(repr, self.found)) or "none"
            msg = f"no cadence {run.target!r} here (found: {names})"
            raise StudioError(msg)
        if found.kind == "cadence":
            return found.obj  # type: ignore[no-any-return]
        made = found.obj(**_factory_args(found.obj, run.args))
        if not isinstance(made, Cadence):
            msg = f"{found.name}() returned {type(made).__name__}, not a Cadence"
            raise StudioError(msg)
        return made

    async def start(self, run: p.Run) -> None:
        await self.stop()
        self.run_no += 1
        number = self.run_no
        try:
            cadence = self._cadence_for(run)
            if run.score is not None:
                score = self._input_score(cadence, run.score)
            else:
                score, notes = fresh_score(cadence.get_score())
                for note in notes:
                    self.channel.send(p.Log(stream="worker", text=f"note: {note}\n"))
        except (StudioError, ScoreInputError) as error:
            self.channel.send(p.WorkerError(message=str(error)))
            self.channel.send(p.RunEnded(run=number, status="refused", error=error_info(error)))
            return
        except USER_ERRORS as error:  # the user's factory or score raised
            self.channel.send(
                p.WorkerError(message=f"could not start {run.target!r}: {error}", error=error_info(error))
            )
            self.channel.send(p.RunEnded(run=number, status="failed", error=error_info(error)))
            return
        self.channel.send(
            p.RunBegan(
                run=number, target=run.target, graph=cadence.describe(), args=run.args, score=run.score
            )
        )
        self.breakpoints = set(run.breakpoints)
        self._reported = []
        self.controller = StepController(
            breakpoints=self.breakpoints, pause_at_start=run.pause_at_start, on_pause=self._paused(number)
        )
        self.task = asyncio.create_task(self._run(number, cadence, score, self.controller))

    def _paused(self, number: int) -> Any:
        def on_pause(point: Checkpoint) -> None:
            held = self.controller.held if self.controller else [point]
            self._report_pause(number, held)

        return on_pause

    def _report_pause(self, number: int, held: list[Checkpoint]) -> None:
        """Tell the UI where the run is held: the oldest held checkpoint is the one a step releases."""
        if not held:
            return
        first = held[0]
        ids = [h.node_id for h in held]
        if ids == self._reported:
            return
        self._reported = ids
        self.live = first.score
        self.channel.send(
            p.Paused(
                run=number,
                kind=first.kind,
                node_id=first.node_id,
                name=first.name,
                held=ids,
                score=tree(first.score),
            )
        )

    async def _after_step(self) -> None:
        """After a step: if other parallel notes are still held, say so (no new pause may come)."""
        await asyncio.sleep(0.02)
        ctl = self.controller
        if ctl is not None and ctl.held and self.task is not None and not self.task.done():
            self._report_pause(self.run_no, ctl.held)

    async def _run(self, number: int, cadence: Cadence[Any], score: Any, controller: StepController) -> None:
        final: dict[str, Any] = {}

        def listener(event: Event) -> None:
            snapshots = getattr(event, "snapshots", None)
            self.channel.send(
                p.EventMessage(
                    run=number,
                    event=event.as_dict(),
                    score=tree(getattr(event, "score", None)),
                    snapshots=[tree(s) for s in snapshots] if snapshots else None,
                )
            )
            if isinstance(event, RunFinished) and event.depth == 0:
                final["status"] = event.status
                final["error"] = event.error
                final["duration"] = event.duration  # the run's own time: time held paused left out

        start = time.perf_counter()
        self.live = score
        try:
            result = await cadence.run(score, controller=controller, listeners=[listener])
        except asyncio.CancelledError:
            self.channel.send(
                p.RunEnded(
                    run=number,
                    status="stopped",
                    score=tree(score),
                    duration=final.get("duration", time.perf_counter() - start),
                )
            )
            raise
        except USER_ERRORS as error:  # sys.exit() in a note fails the note, not the worker
            self.channel.send(
                p.RunEnded(
                    run=number,
                    status="failed",
                    score=tree(score),
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

    def _check_score(self, command: p.CheckScore) -> p.ScoreChecked:
        try:
            cadence = self._cadence_for(p.Run(target=command.target))
            self._input_score(cadence, command.score)
        except ScoreInputError as error:
            return p.ScoreChecked(target=command.target, error=str(error), fields=list(error.fields))
        except USER_ERRORS as error:
            return p.ScoreChecked(target=command.target, error=str(error))
        return p.ScoreChecked(target=command.target)

    def _input_score(self, cadence: Cadence[Any], data: dict[str, Any]) -> Any:
        base = cadence.get_score()
        if base is None:
            msg = f"cadence {cadence.name!r} has no score type to validate the input against"
            raise StudioError(msg)
        refuse_kept(base, data)
        fresh, _ = fresh_score(base)
        kept = {name: getattr(fresh, name) for name in kept_fields(base)}  # JSON cannot give these
        score = validate_score(type(base), {**data, **kept})
        for name, value in kept.items():  # as they are, not as pydantic converted them
            object.__setattr__(score, name, value)
        return score

    def _expand(self, command: p.Expand) -> p.Expanded:
        if self.live is None:
            return p.Expanded(path=command.path, offset=command.offset, error="no score to load from yet")
        try:
            part = expand(display(self.live), command.path, offset=command.offset)
        except KeyError as error:
            return p.Expanded(path=command.path, offset=command.offset, error=str(error.args[0]))
        return p.Expanded(path=command.path, offset=command.offset, tree=part)

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
            case p.Step():
                if ctl:
                    self._reported = []
                    ctl.step()
                    await self._after_step()
            case p.StepOver():
                if ctl:
                    self._reported = []
                    ctl.step_over()
                    await self._after_step()
            case p.Continue():
                if ctl:
                    self._reported = []
                    ctl.resume()
            case p.SetBreakpoints():
                self.breakpoints = set(command.ids)
                if ctl:
                    ctl.breakpoints = set(command.ids)
            case p.Stop():
                await self.stop()
            case p.Describe():
                self.send_catalog()
            case p.Expand():
                self.channel.send(self._expand(command))
            case p.CheckScore():
                self.channel.send(self._check_score(command))
            case p.Shutdown():
                await self.stop()
                return False
        return True


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


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
        serve_loop(serve(worker, commands, closed))


if __name__ == "__main__":
    main()
