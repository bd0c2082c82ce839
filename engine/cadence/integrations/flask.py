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

The same runs without a ``CadenceBlueprint`` (names kept for code written against
cadence-orchestration), each isolating every request the same way and answering errors the same way:

- ``@cadence_route(app_or_bp, rule, cadence)``: the decorator on a plain ``Flask`` app or ``Blueprint``;
- ``register_cadence(app_or_bp, rule, cadence, view=None)``: the same without a decorator (no view:
  each request runs on a deep copy of the construction score);
- ``@with_cadence(cadence)`` under ``@app.post(...)``: a plain view that returns a score;
- ``CadenceExtension(app)`` / ``init_app(app)``: config keys (``CADENCE_EXPOSE_ERRORS``,
  ``CADENCE_CHECKPOINT``, ``CADENCE_RUN_ID_HEADER``, ``CADENCE_TIMING_HEADER``), run id and timing
  headers, a per-request record dropped at teardown;
- ``CadenceBlueprint.blueprint``: the ``flask.Blueprint`` to hand to code that wants one (the
  blueprint itself: a ``CadenceBlueprint`` is a ``flask.Blueprint``).

Needs ``pip install 'cadence-studio[flask]'`` (Flask 3; not ``flask[async]``: Flask's own
``async def`` support, which starts an event loop per call, is not used).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

try:
    from flask import Blueprint, current_app
    from werkzeug.wrappers import Response
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    msg = f"cadence.integrations.flask needs Flask: pip install 'cadence-studio[flask]' ({error})"
    raise ImportError(msg) from error

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._flask_ext import CadenceExtension
from ._flask_run import (
    ErrorHandler,
    ResponseMapper,
    Settings,
    copy_of_construction,
    error_response,
    make_view,
    score_to_jsonable,
)

__all__ = [
    "CadenceBlueprint",
    "CadenceExtension",
    "ErrorHandler",
    "ResponseMapper",
    "cadence_route",
    "error_response",
    "register_cadence",
    "score_to_jsonable",
    "with_cadence",
]


class _Routes(Protocol):
    """A Flask app or blueprint: what routes are added to."""

    def add_url_rule(
        self, rule: str, endpoint: str | None = ..., view_func: Any = ..., **options: Any
    ) -> None: ...


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
            by default (``None``: the app's ``CADENCE_EXPOSE_ERRORS``, else off): a body names the
            failing note and the code, and the text goes to the log only, since exception messages
            can carry data, queries or secrets. Each route may say otherwise.
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
        expose_errors: bool | None = None,
        checkpoint: CheckpointStore | None = None,
        **blueprint_kwargs: Any,
    ) -> None:
        super().__init__(name, import_name, **blueprint_kwargs)
        self.checkpoint = checkpoint
        self.response_mapper = response_mapper
        self.expose_errors = expose_errors
        self.error_handlers: dict[type[BaseException], ErrorHandler] = dict(error_handlers or {})

    @property
    def blueprint(self) -> Blueprint:
        """The ``flask.Blueprint`` for code that wants one: this blueprint itself, routes included."""
        return self

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
                make_view(view, cadence, self, response_mapper, expose_errors),
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


# ---------------------------------------------------------------------------- without a blueprint


def with_cadence(
    cadence: Cadence[Any],
    *,
    response_mapper: ResponseMapper | None = None,
    expose_errors: bool | None = None,
    error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
    checkpoint: CheckpointStore | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Turn a plain view that returns a fresh score into one that runs ``cadence`` on it.

    ::

        @app.post("/orders/<order_id>")
        @with_cadence(checkout)
        def create_order(order_id):
            return OrderScore(order_id=order_id)

    Put it *under* the route decorator. Answers and errors are those of
    :meth:`CadenceBlueprint.cadence_route`; the view keeps its name (the endpoint's).
    """
    settings = Settings(response_mapper, expose_errors, dict(error_handlers or {}), checkpoint)

    def decorator(view: Callable[..., Any]) -> Callable[..., Response]:
        return make_view(view, cadence, settings)

    return decorator


def register_cadence(
    app_or_blueprint: _Routes,
    rule: str,
    cadence: Cadence[Any],
    view: Callable[..., Any] | None = None,
    *,
    methods: Iterable[str] = ("POST",),
    endpoint: str | None = None,
    response_mapper: ResponseMapper | None = None,
    expose_errors: bool | None = None,
    error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
    checkpoint: CheckpointStore | None = None,
    **route_options: Any,
) -> Callable[..., Response]:
    """Add a route to a Flask app or blueprint that runs ``cadence`` per request; returns its view function.

    ``view`` takes the rule's URL variables and returns the request's fresh score; without it, each
    request runs on a deep copy of the cadence's construction score. ``route_options`` go to
    ``add_url_rule``; the endpoint defaults to the view's name (``run_<cadence>`` without a view).
    """
    chosen = view if view is not None else copy_of_construction(cadence)
    settings = Settings(response_mapper, expose_errors, dict(error_handlers or {}), checkpoint)
    view_func = make_view(chosen, cadence, settings)
    app_or_blueprint.add_url_rule(rule, endpoint, view_func, methods=list(methods), **route_options)
    return view_func


def cadence_route(
    app_or_blueprint: _Routes,
    rule: str,
    cadence: Cadence[Any],
    *,
    methods: Iterable[str] = ("POST",),
    response_mapper: ResponseMapper | None = None,
    expose_errors: bool | None = None,
    error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
    checkpoint: CheckpointStore | None = None,
    **route_options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """:meth:`CadenceBlueprint.cadence_route` for any Flask app or blueprint::

        @cadence_route(app, "/orders/<order_id>", checkout)
        def create_order(order_id):
            return OrderScore(order_id=order_id)

    The view is returned unchanged.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        register_cadence(
            app_or_blueprint,
            rule,
            cadence,
            view,
            methods=methods,
            response_mapper=response_mapper,
            expose_errors=expose_errors,
            error_handlers=error_handlers,
            checkpoint=checkpoint,
            **route_options,
        )
        return view

    return decorator
