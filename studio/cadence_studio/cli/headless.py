"""The studio's headless twins: list, run and export without the terminal UI (used by the CLI)."""

from __future__ import annotations

import asyncio
import difflib
import io
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cadence import diagram

from .. import protocol as p
from ..protocol.session import default_choice
from ..protocol.target import parse_target
from ..store.checkpoints import new_run, rerun_of, resume_of
from ..store.history import History, HistoryError
from ..ui.client import WorkerClient, exit_reason
from .run_output import print_end, print_event, print_paused, print_reused, watch_failed_text, where
from .terminal_text import escaped

__all__ = ["RunOptions", "export", "list_cadences", "run_cadence"]

OK_STATUSES = frozenset({"done", "skipped", "interrupted"})
#: Exit code of a run ended by SIGTERM (128 + 15, as a shell reports it).
TERMINATED = 143


async def _catalog(target: str, cwd: Path, err: TextIO) -> tuple[WorkerClient, p.Catalog | None]:
    client = WorkerClient(target, cwd=cwd)
    await client.start()
    try:
        return await _read_catalog(client, target, err)
    except BaseException:  # cancelled (SIGTERM, Ctrl-C): the worker goes too
        await client.close()
        raise


async def _read_catalog(
    client: WorkerClient, target: str, err: TextIO
) -> tuple[WorkerClient, p.Catalog | None]:
    async for message in client.messages():
        if isinstance(message, p.Catalog):
            return client, message
        if isinstance(message, p.LoadFailed):
            print(f"error: {message.error.message}{where(message.error)}", file=err)
            if message.hint:
                print(f"hint: {message.hint}", file=err)
            if message.error.traceback and message.error.type == "SyntaxError":
                print(message.error.traceback, file=err)
            break
        if isinstance(message, p.WorkerExited):
            reason = exit_reason(message.returncode)
            print(f"error: the worker {reason} while loading {target!r}: {message.stderr[-2000:]}", file=err)
            break
        if isinstance(message, p.Log):
            err.write(message.text)
    await client.close()
    return client, None


def _pick(catalog: p.Catalog, target: str, err: TextIO) -> p.CadenceEntry | None:
    name = parse_target(target).name
    entries = catalog.entries
    if name is not None:
        return next((e for e in entries if e.name == name), None)
    if len(entries) == 1:
        return entries[0]
    names = ", ".join(e.name for e in entries) or "none"
    top = default_choice(entries)  # the one the studio opens: no other cadence runs it as a child
    example = f", e.g. '{parse_target(target).spec}:{top}'" if top else ""
    print(
        f"error: {target!r} has {len(entries)} cadences ({names}); add ':NAME' to pick one{example}", file=err
    )
    return None


def _refusal(entry: p.CadenceEntry, options: RunOptions) -> str | None:
    """Why ``cadence-studio run`` refuses the request before anything runs, or None."""
    if options.args and entry.kind != "factory":
        given = ", ".join(map(repr, options.args))
        return f"{entry.name!r} is a cadence, not a factory, so it takes no --arg (given: {given})"
    if options.break_at and entry.graph is not None and (entry.kind == "cadence" or not options.args):
        return unknown_breakpoints(entry.graph, options.break_at)
    return None


async def _factories_hint(target: str, cwd: Path) -> str:
    """The end of the --arg refusal: the module's factories (a worker lists them), or "drop --arg"."""
    spec = parse_target(target).spec
    client, catalog = await _catalog(spec, cwd, io.StringIO())
    await client.close(grace=1.0)
    factories = [e.name for e in catalog.entries if e.kind == "factory"] if catalog else []
    if not factories:
        return f"; {spec!r} has no factory: drop --arg"
    listing = ", ".join(factories)
    return f"; drop --arg, or run a factory with it, e.g. '{spec}:{factories[0]}' (factories: {listing})"


# Measures a run can pause before: notes, .sync groups, .split conditions and .child cadences (not the
# cadence itself, a branch lane or a .sequence group, which have no checkpoint of their own).
_BREAKABLE = frozenset({"note", "sync", "split", "child"})


def unknown_breakpoints(graph: dict[str, Any], wanted: list[str]) -> str | None:
    """A message naming the ``--break-at`` ids that are no node of ``graph`` (nearest first), or None."""
    ids: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("kind") in _BREAKABLE:
            ids.append(node["id"])
        for child in node.get("children", []):
            walk(child)

    walk(graph)
    unknown = [node_id for node_id in wanted if node_id not in ids]
    if not unknown:
        return None
    first = unknown[0]

    def likeness(node_id: str) -> float:  # the whole id or its last part, whichever is closer
        whole = difflib.SequenceMatcher(None, first, node_id).ratio()
        last = difflib.SequenceMatcher(None, first.rsplit("/", 1)[-1], node_id.rsplit("/", 1)[-1]).ratio()
        return max(whole, last)

    near = [i for i in sorted(ids, key=likeness, reverse=True) if likeness(i) >= 0.6][:3]
    listing = ", ".join(dict.fromkeys([*near, *ids]))
    shown = ", ".join(map(repr, unknown))
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"--break-at {shown}: no such node in {graph.get('name')!r}; {hint}the node ids are: {listing}"


async def list_cadences(
    target: str, *, cwd: Path, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print the module's cadences and their measures."""
    out, err = escaped(out, json=as_json), escaped(err)
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    await client.close(grace=1.0)
    if as_json:
        print(catalog.model_dump_json(indent=2), file=out)
        return 0
    if not catalog.entries:
        print(
            f"no cadences in {target!r}: define a Cadence at module level or a function -> Cadence", file=out
        )
    for entry in catalog.entries:
        params = ", ".join(f"{q.name}{'' if q.required else '=' + q.shown_default()}" for q in entry.params)
        title = f"{entry.name}({params})  factory" if entry.kind == "factory" else entry.name
        print(title, file=out)
        if entry.graph is not None:
            print("  " + diagram.to_text(entry.graph).rstrip().replace("\n", "\n  "), file=out)
        elif entry.error is not None:
            print(f"  (calling it with its defaults failed: {entry.error.message})", file=out)
        else:
            print("  (needs arguments: run it with --arg NAME=VALUE)", file=out)
        print(file=out)
    return 0


class RunOptions:
    """What ``cadence-studio run`` was asked."""

    def __init__(
        self,
        args: dict[str, Any],
        score: dict[str, Any] | None,
        break_at: list[str],
        as_json: bool,
        *,
        resume: int | None = None,
        rerun: tuple[int, str] | None = None,
        stall_ms: float = 50.0,
        watches: list[p.Watch] | None = None,
    ):
        self.args = args
        self.score = score
        self.break_at = break_at
        self.as_json = as_json
        self.resume = resume  # a history run number to go on with
        self.rerun = rerun  # (history run number, node id) to re-run from
        self.stall_ms = stall_ms  # an async def note blocking the loop this long is flagged (0: never)
        self.watches = watches or []  # --watch FIELD, --break-when EXPR: data breakpoints


async def run_cadence(
    target: str,
    options: RunOptions,
    *,
    cwd: Path,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    on_status: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    history: History | None = None,
) -> int:
    """Run one cadence in a worker, print its events and final score; 0 only on success.

    ``on_event`` receives each event of the run in its JSON form, as it arrives; with ``history``
    the run is recorded there. SIGTERM stops the run, ends the worker and returns 143. What the run
    prints shows control characters as escapes.
    """
    out, err = escaped(out, json=options.as_json), escaped(err)
    current = asyncio.current_task()
    terminated = asyncio.Event()

    def terminate() -> None:
        terminated.set()
        if current is not None:
            current.cancel()

    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or not Unix
        current = None
    try:
        return await _run(target, options, cwd, out, err, on_status, on_event, history)
    except asyncio.CancelledError:
        if not terminated.is_set():
            raise
        print("error: terminated (SIGTERM): the run was stopped and its worker ended", file=err)
        return TERMINATED
    finally:
        if current is not None:
            loop.remove_signal_handler(signal.SIGTERM)


async def _run(
    target: str,
    options: RunOptions,
    cwd: Path,
    out: TextIO,
    err: TextIO,
    on_status: Callable[[dict[str, dict[str, Any]]], None] | None,
    on_event: Callable[[dict[str, Any]], None] | None,
    history: History | None,
) -> int:
    durable: p.Durable | None = None
    if options.resume is not None:
        if history is None:
            print("error: --resume needs the run history: drop --no-history", file=err)
            return 2
        try:
            summary, durable = resume_of(history, options.resume)
        except HistoryError as error:
            print(f"error: {error}", file=err)
            return 2
        target = f"{parse_target(summary.target).spec}:{summary.entry}"
        options.args = summary.args
    elif options.rerun is not None and history is None:
        print("error: --from needs the run history: drop --no-history", file=err)
        return 2
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    entry = _pick(catalog, target, err)
    if entry is None:
        await client.close()
        return 2
    problem = _refusal(entry, options) if options.resume is None else None
    if problem is not None:
        await client.close()
        if options.args and entry.kind != "factory":
            problem += await _factories_hint(target, cwd)
        print(f"error: {problem}", file=err)
        return 2
    if options.rerun is not None:
        assert history is not None
        durable = await _plan(client, entry, options, history, err)
        if durable is None:
            await client.close()
            return 2
    elif durable is None:
        durable = new_run(history)
    recorder = None
    if history is not None:
        parent, forked_at = (
            (options.resume, None) if options.resume is not None else options.rerun or (None, None)
        )
        try:
            recorder = client.recorder = history.recorder(
                target,
                on_notice=lambda text: print(f"warning: {text}", file=err, flush=True),
                parent=parent,
                forked_at=forked_at,
            )
        except HistoryError as error:
            print(f"warning: {error} (the run goes on unrecorded)", file=err)
    # A factory's graph is known once it is built with the run's arguments: hold the run before its
    # first note until the breakpoints are checked against the graph it begins with.
    known = entry.graph is not None and (entry.kind == "cadence" or not options.args)
    hold = bool(options.break_at) and not known
    await client.send(
        p.Run(
            target=entry.name,
            args=options.args,
            score=options.score,
            breakpoints=[] if hold else options.break_at,
            watches=options.watches,
            pause_at_start=hold,
            durable=durable,
            stall_ms=options.stall_ms,
        )
    )
    try:
        code, statuses = await _follow(client, options, out, err, on_event, hold=hold)
    finally:
        await client.close(grace=1.0)
        if recorder is not None:
            recorder.close()
    if on_status is not None:
        on_status(statuses)
    return code


async def _plan(
    client: WorkerClient, entry: p.CadenceEntry, options: RunOptions, history: History, err: TextIO
) -> p.Durable | None:
    """``--from RUN:NODE``: ask the worker where the re-run starts, print the plan; None if refused."""
    assert options.rerun is not None
    run, node_id = options.rerun
    try:
        summary, durable = rerun_of(history, run, node_id)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return None
    if summary.entry != entry.name:
        print(
            f"error: run {run} is a run of {summary.entry!r}, not {entry.name!r}; --from {run}:… needs it",
            file=err,
        )
        return None
    await client.send(
        p.PlanRerun(
            target=entry.name,
            args=options.args,
            store=durable.store,
            base=durable.base or "",
            node_id=node_id,
        )
    )
    plan = None
    async for message in client.messages():
        if isinstance(message, p.RerunPlan):
            plan = message
            break
        if isinstance(message, p.WorkerExited):
            print(f"error: the worker {exit_reason(message.returncode)} while planning the re-run", file=err)
            return None
    if plan is None or plan.error is not None or plan.start_at is None:
        why = (plan.error or "no plan") if plan else "no plan"
        why = why.replace(f"run {durable.base!r}", f"run {run}")  # the history's number, not the store's id
        print(f"error: --from {run}:{node_id}: {why}", file=err)
        return None
    for line in plan_lines(plan, run):
        print(line, file=err)
    return durable.model_copy(update={"start_at": plan.start_at})


def plan_lines(plan: p.RerunPlan, run: int) -> list[str]:
    """A re-run's plan in words: where it starts, what it reuses from run ``run``, what runs."""
    lines = []
    if plan.start_at != plan.node_id:
        lines.append(
            f"{plan.node_id} is inside {plan.start_at}: the re-run starts at {plan.start_at} as a whole"
        )
    lines.append(f"reused from run {run}: {', '.join(plan.reused) or 'nothing'}")
    lines.append(f"will run: {', '.join(plan.will_run)}")
    return lines


async def _follow(
    client: WorkerClient,
    options: RunOptions,
    out: TextIO,
    err: TextIO,
    on_event: Callable[[dict[str, Any]], None] | None,
    *,
    hold: bool = False,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Print a run's messages until it ends; its exit code and the nodes' statuses.

    With ``hold`` the run was started paused so that ``--break-at`` is checked against the graph in
    :class:`~cadence_studio.protocol.RunBegan`: unknown ids stop it before its first note (exit 2).
    """
    statuses: dict[str, dict[str, Any]] = {}
    code = 1
    refused = False
    async for message in client.messages():
        if isinstance(message, p.EventMessage):
            _record(statuses, message.event)
            if on_event is not None:
                on_event(message.event)
            print_event(message, options.as_json, out)
        elif isinstance(message, p.RunBegan):
            print_reused(message.reused, options.as_json, out)
            if hold:
                problem = unknown_breakpoints(message.graph, options.break_at)
                if problem is not None:
                    print(f"error: {problem}", file=err)
                    refused = True
                    await client.send(p.Stop())
                else:
                    await client.send(p.SetBreakpoints(ids=options.break_at))
                    await client.send(p.Continue())
        elif isinstance(message, p.Paused):
            # Held only to check --break-at: the pause before the first note is not the user's.
            if not hold or message.node_id in options.break_at or message.watch is not None:
                print_paused(message, options.as_json, out)
            await client.send(p.Continue())
        elif isinstance(message, p.Log):
            err.write(message.text)
        elif isinstance(message, p.WatchFailed):
            print(f"warning: {watch_failed_text(message)}", file=err)
        elif isinstance(message, p.WorkerError):
            print(f"error: {message.message}", file=err)
        elif isinstance(message, p.RunEnded):
            if refused or message.status == "refused":  # bad input, explained above: exit 2
                code = 2
                if options.as_json and not refused:
                    print_end(message, options.as_json, out, err)
                break
            code = 0 if message.status in OK_STATUSES else 1
            print_end(message, options.as_json, out, err)
            break
        elif isinstance(message, p.WorkerExited):
            reason = exit_reason(message.returncode)
            print(
                f"error: the worker {reason} during the run (the code it ran called os._exit() or crashed)",
                file=err,
            )
            if message.stderr:
                print(message.stderr[-2000:], file=err)
            break
    return code, statuses


def _record(statuses: dict[str, dict[str, Any]], event: dict[str, Any]) -> None:
    """Fold one event into the statuses the diagrams draw (``cadence.diagram.run_marks`` included)."""
    kind, node = event.get("kind"), event.get("node_id", "")
    entry = statuses.setdefault(node, {})
    if kind == "note_started":
        entry["status"] = "running"
    elif kind == "note_finished":
        entry.update(status=event.get("status"), duration=event.get("duration"))
    elif kind == "child_left":
        entry.update(status="failed" if event.get("error") else "done", duration=event.get("duration"))
    elif kind in ("merged", "branch_taken"):
        entry["status"] = "failed" if event.get("error") else "done"
    elif kind == "retry_attempt":  # attempt N failed: N + 1 attempts so far
        entry["attempts"] = int(event.get("attempt") or 0) + 1
    elif kind == "fallback_used":
        entry["fallback"] = True
    if not entry:
        del statuses[node]


async def export(
    target: str, fmt: str | None, output: Path, *, cwd: Path, with_run: bool = False, err: TextIO = sys.stderr
) -> int:
    """Write a diagram of one cadence (with a run's statuses when ``with_run``)."""
    err = escaped(err)
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    entry = _pick(catalog, target, err)
    await client.close(grace=1.0)
    if entry is None:
        return 2
    if entry.graph is None:
        print(
            f"error: {entry.name}() needs arguments to build its cadence; export a module-level cadence",
            file=err,
        )
        return 2
    statuses: dict[str, dict[str, Any]] = {}
    if with_run:
        options = RunOptions({}, None, [], as_json=False)
        await run_cadence(target, options, cwd=cwd, out=io.StringIO(), err=err, on_status=statuses.update)
    try:
        diagram.save_diagram(entry.graph, output, format=fmt, statuses=statuses or None)
    except (ValueError, diagram.DiagramError) as error:
        print(f"error: {error}", file=err)
        return 2
    print(f"wrote {output}", file=err)
    return 0
