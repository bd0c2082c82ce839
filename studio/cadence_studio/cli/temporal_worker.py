"""``cadence-studio worker TARGET --temporal HOST:PORT``: serve a module's cadences on Temporal.

This process IS the worker: it imports the user's module (with the studio's loader) and runs its
notes as Temporal activities until SIGINT or SIGTERM. The terminal UI is not involved.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from cadence import Cadence

from ..errors import LoadError, TargetError
from ..protocol.target import parse_target
from ..worker.loader import Found
from ..worker.plugins import load_target
from ..worker.tracebacks import error_info

__all__ = ["exit_process", "parse_address", "serve"]


def _fail(message: str, hint: str = "") -> int:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return 2


def parse_address(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` as (host, port); None when it is not one."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def _load_error(error: LoadError) -> int:
    """A target that failed to import: the message, and where in the user's code it failed."""
    cause = error.__cause__
    where = ""
    if cause is not None and not isinstance(cause, ModuleNotFoundError):
        info = error_info(cause)
        if info.file and info.line:
            where = f" ({info.file}:{info.line})"
    return _fail(f"{error}{where}", error.hint)


def _cadences(
    found: list[Found], named: bool, called: frozenset[str] = frozenset()
) -> list[Cadence[Any]] | str:
    """The module's cadences (a factory only when the target names it, or it is in ``called``: a plugin
    whose entry point names a factory), or what is wrong."""
    out: list[Cadence[Any]] = []
    for item in found:
        if item.kind == "cadence":
            out.append(item.obj)
        elif named or item.name in called:
            try:
                made = item.obj()
            except TypeError as error:
                return f"{item.name}() needs arguments ({error}); point at a module-level cadence instead"
            if not isinstance(made, Cadence):
                return f"{item.name}() returned {made!r}, not a Cadence"
            out.append(made)
    unique = {id(cadence): cadence for cadence in out}  # two plugins may name the same cadence
    return list(unique.values())


def _children(cadence: Cadence[Any]) -> list[str]:
    names = [cadence.name]
    for m in cadence.measures:
        child = getattr(m, "child", None)
        if isinstance(child, Cadence):
            names.extend(n for n in _children(child) if n not in names)
    return names


async def _run(
    cadences: list[Cadence[Any]],
    address: str,
    namespace: str,
    task_queue: str,
    heartbeat_timeout: float,
    sticky_timeout: float,
    note: str = "",
) -> int:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    from cadence.integrations.temporal import create_worker

    try:
        client = await Client.connect(address, namespace=namespace)
    except Exception as error:
        return _fail(
            f"cannot reach a Temporal server at {address} ({error})",
            "start one (temporal server start-dev) or pass its address: --temporal HOST:PORT",
        )
    try:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    except Exception as error:
        why = getattr(error, "message", error)
        return _fail(
            f"no namespace {namespace!r} on the Temporal server at {address} ({why})",
            "pass an existing one with --namespace (temporal operator namespace list shows them)",
        )
    worker = create_worker(
        client,
        cadences,
        task_queue=task_queue,
        heartbeat_timeout=heartbeat_timeout,
        sticky_timeout=sticky_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.ensure_future(worker.run())
    stopping = asyncio.ensure_future(stop.wait())
    names: list[str] = []
    for cadence in cadences:
        names.extend(n for n in _children(cadence) if n not in names)
    print(
        f"serving {', '.join(map(repr, names))} on Temporal at {address} "
        f"(namespace {namespace!r}, task queue {task_queue!r}){note}; Ctrl-C stops",
        flush=True,
    )
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        stopping.cancel()
        failure = running.exception()
        if failure is not None:
            return _fail(
                f"the worker stopped: {failure}",
                f"check that namespace {namespace!r} exists on {address} (temporal operator namespace list)",
            )
        return 0
    await worker.shutdown()
    await asyncio.gather(running, return_exceptions=True)
    print("worker stopped", flush=True)
    return 0


def serve(
    target: str,
    address: str,
    *,
    namespace: str = "default",
    task_queue: str = "cadence",
    cwd: Path = Path("."),
    heartbeat_timeout: float = 2.0,
    sticky_timeout: float = 1.0,
) -> int:
    """Load ``target``'s cadences here and serve them on Temporal until SIGINT/SIGTERM; the exit code."""
    if parse_address(address) is None:
        return _fail(
            f"--temporal {address!r} is not HOST:PORT",
            "pass the Temporal server's frontend address, e.g. --temporal localhost:7233",
        )
    try:
        import cadence.integrations.temporal  # noqa: F401
    except ImportError as error:
        return _fail(str(error))
    try:
        parsed = parse_target(target)
        loaded = load_target(parsed, cwd=cwd)
    except TargetError as error:
        return _fail(str(error))
    except LoadError as error:
        return _load_error(error)
    for broken in loaded.broken:  # the others are served
        assert broken.error is not None
        where = f" ({broken.error.file}:{broken.error.line})" if broken.error.file else ""
        print(
            f"warning: plugin {broken.name!r} ({broken.package}): {broken.error.message}{where}",
            file=sys.stderr,
        )
    # an installed plugin whose entry point names a factory is served like a named one
    factories = frozenset(q.name for q in loaded.plugins or [] if q.kind == "factory")
    chosen = _cadences(loaded.found, named=parsed.name is not None, called=factories)
    if isinstance(chosen, str):
        return _fail(chosen)
    skipped = ", ".join(repr(q.name) for q in loaded.plugins or [] if q.disabled)
    note = f"; disabled here, not registered: {skipped} (cadence-studio enable NAME)" if skipped else ""
    if not chosen and parsed.plugin is not None:
        return _fail(
            f"no installed plugin cadence to serve{note}", "cadence-studio list --installed shows them"
        )
    if not chosen:
        return _fail(
            f"{target!r} defines no module-level Cadence to serve",
            "define one at module level (checkout = Cadence(...)), or name a factory: TARGET:make_cadence",
        )
    return asyncio.run(_run(chosen, address, namespace, task_queue, heartbeat_timeout, sticky_timeout, note))


def exit_process(code: int) -> NoReturn:
    """End the worker process with ``code``.

    Once temporalio's runtime (Rust threads) has started, the interpreter's own shutdown can abort
    while those threads still call into Python (seen here as exit codes 134 and -11 instead of 2),
    so the process flushes its output and logs and ends at once.
    """
    if "temporalio" not in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
