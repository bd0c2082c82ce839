"""Flask integration: serve a cadence from a view.

::

    from flask import Flask
    from cadence.integrations.flask import CadenceBlueprint

    bp = CadenceBlueprint("orders", __name__)

    @bp.cadence_route("/orders/<order_id>", checkout)
    def create_order(order_id):
        return OrderScore(order_id=order_id)   # a fresh score for this request

    app = Flask(__name__)
    app.register_blueprint(bp)

The decorated view (``def`` or ``async def``) takes the rule's URL variables, may read
``flask.request``, and returns a *fresh* score; the route runs ``await cadence.run(score)`` on it and
answers with the score as JSON (or ``response_mapper(score)``). The cadence's construction score is
never used. Errors are answered exactly as by :mod:`cadence.integrations.fastapi`: a JSON body
``{"error": {"code": ..., "message": ..., "note": ...}}`` with status 504 (``TIMEOUT``), 503
(``CIRCUIT_OPEN``, with ``Retry-After``) or 500 (``NOTE_ERROR``, ``RETRY_EXHAUSTED``,
``INTERNAL_ERROR`` for a foreign error, ``INVALID_SCORE`` when the view returns ``None`` or the
construction score); never a traceback (it goes to the ``cadence.integrations.flask`` logger). The
message names the failing note and what happened ("note 'charge' failed"), not the exception's own text
(logged too); ``CadenceBlueprint(expose_errors=True)`` (or ``expose_errors=`` on a route) sends it. A view
that returns a ``Response`` or a Flask tuple ``(body, status[, headers])`` has answered by itself: that is
the response, and no cadence runs.
``Skip`` and interrupts end the run cleanly and answer 200 with the score as it stands.

A mapper (sync or async) may return a ``Response`` (answered as is), a Flask tuple
``(body, status[, headers])`` or ``(body, headers)`` (its body answered as JSON unless it is a
``Response``), or anything else (answered as JSON, converted like a score). Unlike FastAPI's,
error handlers take only the error, ``error_handlers={ExcType: handler(exc)}`` (``flask.request``
is there as in any Flask error handler); they return what a mapper returns, and a handler that raises
is answered 500 ``INTERNAL_ERROR`` (and logged). Errors raised by the view itself are Flask's to
handle (``abort(404)`` is a 404). ``bp.metrics_route("/metrics", registry=...)`` serves Prometheus
metrics (see :class:`cadence.reporters.PrometheusReporter`).

**The event loop.** Flask views are synchronous: each request has a worker thread of the server
(the development server's threads, waitress's, gunicorn's ``gthread`` ...). Async code does not get an
event loop per request here: one long-lived loop runs in a daemon thread (``cadence-flask-loop``),
started on first use, shared by every blueprint of the process and started again in a child
after a ``fork``. A request hands its cadence run (and its async view, mapper or error handler) to
that loop and its own thread waits for the result, so the requests of all worker threads run
concurrently on one loop, and the engine's pools, circuit breakers and ``asyncio`` objects created by
notes are shared across requests as they would be under an ASGI server. Each coroutine runs in a
copy of the request thread's ``contextvars`` context, so ``flask.request``, ``flask.g`` and
``current_app`` work in async views and in notes. Notes must not block the loop (a sync note runs in
the engine's thread pool, as always). Calling a cadence route from a note (on the loop's own
thread) would wait for itself and raises ``RuntimeError`` instead.

Needs ``pip install 'cadence-studio[flask]'`` (Flask 3; not ``flask[async]``: Flask's own
``async def`` support, which starts an event loop per call, is not used).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextvars
import inspect
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

try:
    from flask import Blueprint, current_app, has_app_context, jsonify, request
    from werkzeug.wrappers import Response
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    msg = f"cadence.integrations.flask needs Flask: pip install 'cadence-studio[flask]' ({error})"
    raise ImportError(msg) from error

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._common import ErrorReply

__all__ = ["CadenceBlueprint", "ErrorHandler", "ResponseMapper", "error_response", "score_to_jsonable"]

logger = logging.getLogger("cadence.integrations.flask")

T = TypeVar("T")

#: ``mapper(score)`` (sync or async): a ``Response``, a Flask ``(body, status[, headers])`` tuple,
#: or anything else, answered as JSON.
ResponseMapper = Callable[[Any], Any]
#: ``handler(exc)`` (sync or async), with ``flask.request`` available: the answer for an error of
#: the type it is registered for (same forms as a mapper's).
ErrorHandler = Callable[[BaseException], Any]


# ---------------------------------------------------------------------------- the shared loop


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


_LOOP = _LoopThread()
atexit.register(_LOOP.stop)
os.register_at_fork(after_in_child=_LOOP.after_fork)


# ---------------------------------------------------------------------------- responses


def _flask_encoder(value: Any) -> Any:
    return json.loads(current_app.json.dumps(value))


def score_to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: dataclasses field by field, ``Atomic`` types by their contents.

    Anything else goes through the current app's JSON provider (dates, UUIDs, decimals ...) when
    there is an app context, and if even that fails, ``repr``. Cycles are cut.
    """
    return _common.score_to_jsonable(value, _flask_encoder if has_app_context() else None)


def _json(value: Any) -> Response:
    response: Response = jsonify(score_to_jsonable(value))
    return response


def _reply(reply: ErrorReply, *, expose_errors: bool = False) -> Response:
    response = _json(reply.as_body(expose_errors=expose_errors))
    response.status_code = reply.status
    response.headers.update(reply.headers)
    return response


def error_response(exc: BaseException, *, expose_errors: bool = False) -> Response:
    """The JSON error response for a failed run (needs an app context); no traceback, no ``repr``,
    and the error's own text only with ``expose_errors``."""
    return _reply(_common.classify_error(exc), expose_errors=expose_errors)


def _to_response(out: Any) -> Response:
    """A mapper's or handler's result as a response: a ``Response`` as is, a Flask tuple
    ``(body, status[, headers])`` / ``(body, headers)`` with its body answered as JSON, else JSON."""
    if isinstance(out, Response):
        return out
    if isinstance(out, tuple) and 2 <= len(out) <= 3:
        body, *rest = out
        body = body if isinstance(body, Response) else _json(body)
        response: Response = current_app.make_response((body, *rest))
        return response
    return _json(out)


# ---------------------------------------------------------------------------- blueprint


class CadenceBlueprint(Blueprint):
    """A ``flask.Blueprint`` whose :meth:`cadence_route` views run a cadence on the score they return.

    Args:
        name, import_name: as for ``flask.Blueprint``.
        response_mapper: default ``mapper(score)`` for the routes (each route may give its own).
        error_handlers: ``{ExcType: handler(exc) -> response}`` (sync or async; ``flask.request`` is
            available), tried on the raised error and then on the errors it wraps
            (``NoteError.original_error``, ``RetryExhaustedError.last_error``); the most specific
            type of the first error that has one wins. A handler that fails answers 500
            ``INTERNAL_ERROR`` (and is logged).
        expose_errors: put the error's own text (``str(exc)`` of the failure) in error bodies. Off
            by default: a body names the failing note and the code, and the text goes to the log
            only, since exception messages can carry data, queries or secrets. Each route may say
            otherwise.
        checkpoint: a :class:`~cadence.checkpoint.CheckpointStore`: each request's run is
            checkpointed under its own run id (``req-<hex>``), so a process that dies mid-request
            leaves it in ``cadence.pending(store)`` to resume at the next start (README).
        **blueprint_kwargs: passed to ``flask.Blueprint`` (``url_prefix``, ...).
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        response_mapper: ResponseMapper | None = None,
        error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
        expose_errors: bool = False,
        checkpoint: CheckpointStore | None = None,
        **blueprint_kwargs: Any,
    ) -> None:
        super().__init__(name, import_name, **blueprint_kwargs)
        self.checkpoint = checkpoint
        self.response_mapper = response_mapper
        self.expose_errors = expose_errors
        self.error_handlers: dict[type[BaseException], ErrorHandler] = dict(error_handlers or {})

    def cadence_route(
        self,
        rule: str,
        cadence: Cadence[Any],
        *,
        methods: Iterable[str] = ("POST",),
        response_mapper: ResponseMapper | None = None,
        expose_errors: bool | None = None,
        **route_options: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate a view (sync or async, taking the rule's URL variables) that returns a fresh score.

        A view may answer by itself instead: a ``Response`` or a Flask tuple ``(body, status)``,
        ``(body, status, headers)`` or ``(body, headers)`` is sent as Flask would send it, and no
        cadence runs (a validation error, a redirect). ``expose_errors`` overrides the blueprint's
        for this route. ``route_options`` go to ``Blueprint.add_url_rule`` (``endpoint``, ``defaults``,
        ``strict_slashes``, ...); the endpoint defaults to the view's name. The view is returned
        unchanged.
        """
        verbs = list(methods)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            options = dict(route_options)
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(
                rule,
                endpoint,
                self._view_func(view, cadence, response_mapper, expose_errors),
                methods=verbs,
                **options,
            )
            return view

        return decorator

    def metrics_route(
        self, rule: str = "/metrics", *, registry: Any = None, endpoint: str = "metrics", **route_options: Any
    ) -> None:
        """``GET rule``: the Prometheus text exposition of ``registry`` (default: the global one).

        Give a :class:`cadence.reporters.PrometheusReporter` the same registry. Needs
        ``pip install 'cadence-studio[prometheus]'`` (an ImportError naming it otherwise, at once).
        """
        chosen = _common.prometheus_registry(registry)

        def metrics() -> Response:
            payload, content_type = _common.metrics_exposition(chosen)
            response: Response = current_app.response_class(payload, content_type=content_type)
            return response

        self.add_url_rule(rule, endpoint, metrics, methods=["GET"], **route_options)

    def _view_func(
        self,
        view: Callable[..., Any],
        cadence: Cadence[Any],
        mapper: ResponseMapper | None,
        expose_errors: bool | None,
    ) -> Callable[..., Response]:
        expose = self.expose_errors if expose_errors is None else expose_errors

        def endpoint(**kwargs: Any) -> Response:
            score = view(**kwargs)
            if inspect.isawaitable(score):
                score = _LOOP.run(score)
            if isinstance(score, tuple | Response):  # the view answered itself: a response, not a score
                response: Response = current_app.make_response(score)
                return response
            if _common.is_invalid_score(score, cadence):
                invalid = _common.invalid_score(view, cadence)
                logger.error("%s", invalid.message)
                return _reply(invalid, expose_errors=expose)
            chosen = mapper or self.response_mapper
            try:
                result = _LOOP.run(cadence.run(score, **_common.run_options(self.checkpoint)))
                if chosen is None:
                    return _json(result)
                out = chosen(result)
                if inspect.isawaitable(out):
                    out = _LOOP.run(out)
                return _to_response(out)
            except Exception as exc:
                return self._on_error(cadence, exc, expose)

        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            if hasattr(view, attr):
                setattr(endpoint, attr, getattr(view, attr))
        return endpoint

    def _on_error(self, cadence: Cadence[Any], exc: Exception, expose: bool) -> Response:
        found = _common.find_handler(self.error_handlers, exc)
        if found is not None:
            handler, err = found
            try:
                out = handler(err)
                if inspect.isawaitable(out):
                    out = _LOOP.run(out)
                return _to_response(out)
            except Exception as failure:
                logger.error(
                    "the error handler %r of cadence %r failed on %s %s",
                    handler,
                    cadence.name,
                    request.method,
                    request.path,
                    exc_info=failure,
                )
                return _reply(_common.internal_error())
        logger.error("cadence %r failed on %s %s", cadence.name, request.method, request.path, exc_info=exc)
        return _reply(_common.classify_error(exc), expose_errors=expose)
