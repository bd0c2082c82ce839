"""What a running note knows about its run: lets decorators emit events into the run's stream."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["NoteScope", "await_blocking", "current_scope", "emit_in_scope", "offload", "shared_pool"]


class NoteScope:
    """The run, node and emitter of the note being executed (set only when someone listens)."""

    __slots__ = ("cadence", "depth", "emit", "name", "node_id", "run_id", "score")

    def __init__(
        self,
        *,
        emit: Callable[[Any], Awaitable[None]],
        run_id: str,
        cadence: str,
        node_id: str,
        depth: int,
        name: str,
        score: Any,
    ) -> None:
        self.emit = emit
        self.run_id = run_id
        self.cadence = cadence
        self.node_id = node_id
        self.depth = depth
        self.name = name
        self.score = score

    async def send(self, event_type: type[Any], **fields: Any) -> None:
        await self.emit(
            event_type(
                run_id=self.run_id,
                cadence=self.cadence,
                node_id=self.node_id,
                depth=self.depth,
                at=time.time(),
                **fields,
            )
        )


current_scope: contextvars.ContextVar[NoteScope | None] = contextvars.ContextVar(
    "cadence_scope", default=None
)


async def emit_in_scope(event_type: type[Any], **fields: Any) -> None:
    """Emit an event about the note being run (a decorator's retry, timeout...), if anyone listens."""
    scope = current_scope.get()
    if scope is not None:
        await scope.send(event_type, name=scope.name, **fields)


_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The one pool every sync note (and sync condition, merge, error handler) runs in, made on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                # Sync notes mostly wait (HTTP, SQL), not compute: a server's concurrent requests each
                # hold a thread while their note waits. 40 is Starlette's (anyio's) default too.
                workers = max(40, (os.cpu_count() or 1) + 4)
                _pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="cadence-note")
    return _pool


async def offload(fn: Callable[..., Any], *args: Any, dedicated: bool = False) -> Any:
    """Run a sync callable off the event loop, in the shared pool or (``dedicated``) its own thread.

    A dedicated daemon thread is used under ``@timeout``: a note that never returns then holds
    no pool thread and never keeps the process alive.
    """
    ctx = contextvars.copy_context()
    if not dedicated:
        # What ``loop.run_in_executor`` does, without ``asyncio.shield`` (a loop turn per call).
        running = (_pool or shared_pool()).submit(ctx.run, fn, *args)
        try:
            return await asyncio.wrap_future(running)
        except asyncio.CancelledError:
            # A thread cannot be interrupted: end only once it has, so a cancelled group ends last.
            if not running.cancel():
                await asyncio.wait([asyncio.wrap_future(running)])
            raise
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def target() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(ctx.run(fn, *args))
        except BaseException as exc:  # delivered to the awaiting coroutine
            future.set_exception(exc)

    threading.Thread(target=target, name="cadence-timeout", daemon=True).start()
    return await asyncio.wrap_future(future)


def await_blocking(awaitable: Awaitable[Any]) -> Any:
    """Finish an awaitable from sync code (a sync note called directly that returned a coroutine).

    It runs on a loop of its own in a helper thread, so a loop running in this thread is left alone.
    """

    async def wait() -> Any:
        return await awaitable

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="cadence-await") as pool:
        return pool.submit(asyncio.run, wait()).result()
