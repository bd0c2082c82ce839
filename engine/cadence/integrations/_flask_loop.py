"""The event loop of ``cadence.integrations.flask``: one long-lived loop in a daemon thread
(``cadence-flask-loop``), started on first use and again after a ``fork``, on which every request's
run (and async view, mapper and error handler) is awaited while the request's thread waits.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import inspect
import os
import threading
from collections.abc import Awaitable
from typing import NamedTuple, TypeVar

T = TypeVar("T")


class _Running(NamedTuple):
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    ident: int  # the thread's id
    pid: int  # the process that started it


class _LoopThread:
    """One event loop in a daemon thread, started on first use and again after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: _Running | None = None  # replaced as a whole, so it is read without the lock
        self._stale: list[asyncio.AbstractEventLoop] = []  # loops of a parent process, never closed here

    def _alive(self) -> _Running | None:
        running = self._running
        if running is not None and running.pid == os.getpid() and running.thread.is_alive():
            return running
        return None

    def get(self) -> _Running:
        """The running loop, started if need be."""
        running = self._alive()
        if running is None:
            with self._lock:
                running = self._alive() or self._start()
        return running

    def _start(self) -> _Running:
        if self._running is not None and self._running.pid != os.getpid():
            self._stale.append(self._running.loop)  # the parent's: its thread does not exist here
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._serve, args=(loop, ready), name="cadence-flask-loop", daemon=True
        )
        thread.start()
        ready.wait()
        assert thread.ident is not None
        self._running = _Running(loop, thread, thread.ident, os.getpid())
        return self._running

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            asyncio.set_event_loop(None)
            loop.close()

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the loop in a copy of the caller's context; block until it is done."""
        loop, _, ident, _ = self.get()
        if threading.get_ident() == ident:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            msg = "a cadence route was called on the cadence loop's thread, where it would wait for itself"
            raise RuntimeError(msg)
        ctx = contextvars.copy_context()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        async def main() -> T:
            return await awaitable

        def start() -> None:
            if not done.set_running_or_notify_cancel():  # pragma: no cover - nobody cancels it
                return
            task = loop.create_task(main(), context=ctx)
            task.add_done_callback(lambda t: _settle(t, done))

        loop.call_soon_threadsafe(start)
        return done.result()

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and wait for its thread."""
        with self._lock:
            running = self._alive()
            if running is not None:
                self._running = None
        if running is not None:
            running.loop.call_soon_threadsafe(running.loop.stop)
            running.thread.join(timeout=5)

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # the parent's may have been held by a thread that is gone


def _settle(task: asyncio.Task[T], done: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        done.set_exception(RuntimeError("the cadence loop stopped before the run ended"))
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(task.result())


LOOP = _LoopThread()
atexit.register(LOOP.stop)
os.register_at_fork(after_in_child=LOOP.after_fork)
