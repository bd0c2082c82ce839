"""FastAPI integration: serve a cadence from an endpoint.

::

    from fastapi import FastAPI
    from cadence.integrations.fastapi import CadenceRouter

    router = CadenceRouter()

    @router.cadence("/orders/{order_id}", checkout)
    async def create_order(order_id: str) -> OrderScore:
        return OrderScore(order_id=order_id)   # a fresh score for this request

    app = FastAPI()
    app.include_router(router)

The decorated view takes any FastAPI parameters (path, query, body, dependencies) and returns a
*fresh* score; the route runs ``await cadence.run(score)`` on it and answers with the score
serialised (or ``response_mapper(score)``). The cadence's construction score is never used. A view
that returns a Starlette/FastAPI ``Response`` (a ``JSONResponse`` for a validation error, a
``RedirectResponse``, ...) has answered by itself: that response is sent as is, and no cadence runs.

Errors become a JSON body ``{"error": {"code": ..., "message": ..., "note": ...}}``: status 504 for a
timeout (code ``TIMEOUT``), 503 for an open circuit (``CIRCUIT_OPEN``), 500 otherwise (``NOTE_ERROR``,
``RETRY_EXHAUSTED``, ``INTERNAL_ERROR`` for a foreign error, ``INVALID_SCORE`` when the view returns
``None`` or the construction score); never a traceback. The message says which note failed and how
("note 'charge' failed"), not the exception's own text, which goes to the log; an app opts in to
sending it with ``CadenceRouter(expose_errors=True)`` (or per route, ``expose_errors=``). ``Skip`` and
interrupts end the run cleanly and answer 200 with the score as it stands.
``error_handlers={ExcType: handler(request, exc) -> Response}`` replaces that body for the errors it
names (matched against the raised error and the errors it wraps).
``router.metrics_route("/metrics", registry=...)`` serves Prometheus metrics (see
:class:`cadence.reporters.PrometheusReporter`).

The same runs without a router (names kept for code written against cadence-orchestration), each
isolating every request the same way (a fresh score, its own run) and answering errors the same way:

- ``@with_cadence(cadence)`` under ``@app.post(...)``: a plain route whose function returns a score;
- ``cadence_endpoint(cadence, view=None)``: an endpoint for ``app.add_api_route(path, ...)`` (no view:
  each request runs on a deep copy of the construction score);
- ``Depends(CadenceDependency(cadence, score_factory))``: the route receives the score already run
  (a failure is a :class:`CadenceHTTPException`: ``{"detail": {"code": ..., ...}}``);
- ``app.add_middleware(CadenceMiddleware)``: ``X-Cadence-Run-Id`` and ``X-Cadence-Duration`` (and
  ``Server-Timing``) headers on responses whose request ran a cadence.

Needs ``pip install 'cadence-studio[fastapi]'``.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

try:
    from fastapi import APIRouter
    from fastapi.responses import Response
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    msg = f"cadence.integrations.fastapi needs FastAPI: pip install 'cadence-studio[fastapi]' ({error})"
    raise ImportError(msg) from error

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._fastapi_extras import CadenceDependency, CadenceHTTPException, CadenceMiddleware
from ._fastapi_run import (
    ErrorHandler,
    ResponseMapper,
    Settings,
    error_response,
    make_endpoint,
    score_to_jsonable,
)

__all__ = [
    "CadenceDependency",
    "CadenceHTTPException",
    "CadenceMiddleware",
    "CadenceRouter",
    "ErrorHandler",
    "ResponseMapper",
    "cadence_endpoint",
    "error_response",
    "score_to_jsonable",
    "with_cadence",
]

#: The errors an error is taken to wrap (kept for callers of the old private name).
_chain = _common.error_chain


# ---------------------------------------------------------------------------- router


class CadenceRouter(APIRouter):
    """An ``APIRouter`` whose :meth:`cadence` routes run a cadence on the score their view returns.

    Args:
        response_mapper: default ``mapper(score)`` for the routes (each route may give its own).
        error_handlers: ``{ExcType: handler(request, exc) -> Response}`` (sync or async), tried on the
            raised error and then on the errors it wraps (``NoteError.original_error``, ...);
            the most specific type of the first error that has one wins.
        expose_errors: put the error's own text (``str(exc)`` of the failure) in error bodies. Off
            by default: a body names the failing note and the code, and the text goes to the log
            only, since exception messages can carry data, queries or secrets. Each route may say
            otherwise.
        checkpoint: a :class:`~cadence.checkpoint.CheckpointStore`: each request's run is
            checkpointed under its own run id (``req-<hex>``), so a process that dies mid-request
            leaves it in ``cadence.pending(store)`` to resume at the next start (README).
        **kwargs: passed to ``fastapi.APIRouter``.
    """

    def __init__(
        self,
        *,
        response_mapper: ResponseMapper | None = None,
        error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
        expose_errors: bool = False,
        checkpoint: CheckpointStore | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.checkpoint = checkpoint
        self.response_mapper = response_mapper
        self.expose_errors = expose_errors
        self.error_handlers: dict[type[BaseException], ErrorHandler] = dict(error_handlers or {})

    def cadence(
        self,
        path: str,
        cadence: Cadence[Any],
        *,
        methods: Iterable[str] = ("POST",),
        response_mapper: ResponseMapper | None = None,
        expose_errors: bool | None = None,
        **route_kwargs: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate a view (sync or async, any FastAPI parameters) that returns a fresh score.

        A view may answer by itself instead: a ``Response`` it returns is sent as is, and no cadence
        runs (a validation error, a redirect).

        ``expose_errors`` overrides the router's for this route. ``route_kwargs`` go to
        ``APIRouter.add_api_route`` (``status_code``, ``tags``, ``response_model``,
        ``dependencies``, ...). The view is returned unchanged.
        """
        verbs = list(methods)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            endpoint = self._endpoint(view, cadence, response_mapper, expose_errors)
            self.add_api_route(path, endpoint, methods=verbs, **route_kwargs)
            return view

        return decorator

    def metrics_route(
        self,
        path: str = "/metrics",
        *,
        registry: Any = None,
        include_in_schema: bool = False,
        **route_kwargs: Any,
    ) -> None:
        """``GET path``: the Prometheus text exposition of ``registry`` (default: the global one).

        Give a :class:`cadence.reporters.PrometheusReporter` the same registry. ``route_kwargs`` go to
        ``APIRouter.add_api_route``. Needs ``pip install 'cadence-studio[prometheus]'`` (an
        ImportError naming it otherwise, at once).
        """
        chosen = _common.prometheus_registry(registry)

        def metrics() -> Response:  # a plain def: FastAPI runs it in its thread pool
            payload, content_type = _common.metrics_exposition(chosen)
            return Response(payload, media_type=content_type)

        self.add_api_route(
            path, metrics, methods=["GET"], include_in_schema=include_in_schema, **route_kwargs
        )

    def _endpoint(
        self,
        view: Callable[..., Any],
        cadence: Cadence[Any],
        mapper: ResponseMapper | None,
        expose_errors: bool | None,
    ) -> Callable[..., Awaitable[Any]]:
        return make_endpoint(view, cadence, self, mapper, expose_errors)


# ---------------------------------------------------------------------------- without a router


def with_cadence(
    cadence: Cadence[Any],
    *,
    response_mapper: ResponseMapper | None = None,
    expose_errors: bool = False,
    error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
    checkpoint: CheckpointStore | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]:
    """Turn a plain route function that returns a fresh score into one that runs ``cadence`` on it.

    ::

        @app.post("/orders/{order_id}")
        @with_cadence(checkout)
        async def create_order(order_id: str) -> OrderScore:
            return OrderScore(order_id=order_id)

    Put it *under* the route decorator: FastAPI must see the function it returns (the view's
    parameters plus the request). Answers, errors and options are those of :meth:`CadenceRouter.cadence`.
    """
    settings = Settings(response_mapper, expose_errors, dict(error_handlers or {}), checkpoint)

    def decorator(view: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        return make_endpoint(view, cadence, settings)

    return decorator


def cadence_endpoint(
    cadence: Cadence[Any],
    view: Callable[..., Any] | None = None,
    *,
    response_mapper: ResponseMapper | None = None,
    expose_errors: bool = False,
    error_handlers: Mapping[type[BaseException], ErrorHandler] | None = None,
    checkpoint: CheckpointStore | None = None,
) -> Callable[..., Awaitable[Any]]:
    """An endpoint that runs ``cadence`` per request, for ``app.add_api_route(path, endpoint)``.

    ``view`` (any FastAPI parameters, sync or async) returns the request's fresh score; without it,
    each request runs on a deep copy of the cadence's construction score.
    """
    if view is None:
        construction = cadence.get_score()
        if construction is None:
            msg = f"cadence_endpoint({cadence.name!r}): the cadence has no score to copy; pass view=..."
            raise ValueError(msg)

        async def view() -> Any:
            return copy.deepcopy(construction)

        view.__name__ = view.__qualname__ = f"run_{cadence.name}"
    return with_cadence(
        cadence,
        response_mapper=response_mapper,
        expose_errors=expose_errors,
        error_handlers=error_handlers,
        checkpoint=checkpoint,
    )(view)
