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

Needs ``pip install 'cadence-studio[fastapi]'``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

try:
    from fastapi import APIRouter, Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    msg = f"cadence.integrations.fastapi needs FastAPI: pip install 'cadence-studio[fastapi]' ({error})"
    raise ImportError(msg) from error

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._common import ErrorReply

__all__ = ["CadenceRouter", "ErrorHandler", "ResponseMapper", "error_response", "score_to_jsonable"]

logger = logging.getLogger("cadence.integrations.fastapi")

#: ``mapper(score)``: what the endpoint answers (a ``Response``, or anything FastAPI can encode).
ResponseMapper = Callable[[Any], Any]
#: ``handler(request, exc)``: the response for an error of the type it is registered for.
ErrorHandler = Callable[[Request | None, BaseException], Any]

#: The errors an error is taken to wrap (kept for callers of the old private name).
_chain = _common.error_chain


# ---------------------------------------------------------------------------- serialisation


def score_to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: dataclasses field by field, ``Atomic`` types by their contents.

    Anything else goes through FastAPI's ``jsonable_encoder``, and if even that fails, ``repr``.
    Cycles are cut (the repeated object becomes its ``repr``).
    """
    return _common.score_to_jsonable(value, jsonable_encoder)


# ---------------------------------------------------------------------------- errors


def _reply(reply: ErrorReply, *, expose_errors: bool = False) -> JSONResponse:
    body = reply.as_body(expose_errors=expose_errors)
    return JSONResponse(body, status_code=reply.status, headers=dict(reply.headers) or None)


def error_response(exc: BaseException, *, expose_errors: bool = False) -> JSONResponse:
    """The JSON error response for a failed run; no traceback, no ``repr`` of foreign errors, and the
    error's own text only with ``expose_errors``."""
    return _reply(_common.classify_error(exc), expose_errors=expose_errors)


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
        expose = self.expose_errors if expose_errors is None else expose_errors
        signature = _typed_signature(view)
        request_name = "cadence_request"
        while request_name in signature.parameters:
            request_name = f"_{request_name}"
        params = list(signature.parameters.values())
        extra = inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params))
        params.insert(at, extra)
        is_async = inspect.iscoroutinefunction(view)

        @functools.wraps(view)
        async def endpoint(*args: Any, **kwargs: Any) -> Any:
            request: Request = kwargs.pop(request_name)
            if is_async:
                score = view(*args, **kwargs)
            else:
                score = await run_in_threadpool(view, *args, **kwargs)
            if inspect.isawaitable(score):
                score = await score
            if isinstance(score, Response):  # the view answered itself: a response, not a score
                return score
            if _common.is_invalid_score(score, cadence):
                invalid = _common.invalid_score(view, cadence)
                logger.error("%s", invalid.message)
                return _reply(invalid, expose_errors=expose)
            chosen = mapper or self.response_mapper
            try:
                result = await cadence.run(score, **_common.run_options(self.checkpoint))
                if chosen is None:
                    return score_to_jsonable(result)
                out = chosen(result)
                if inspect.isawaitable(out):
                    out = await out
            except Exception as exc:
                return await self._on_error(request, cadence, exc, expose)
            return out

        endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=params, return_annotation=inspect.Signature.empty
        )
        return endpoint

    async def _on_error(self, request: Request, cadence: Cadence[Any], exc: Exception, expose: bool) -> Any:
        found = _common.find_handler(self.error_handlers, exc)
        if found is not None:
            handler, err = found
            out = handler(request, err)
            if inspect.isawaitable(out):
                out = await out
            return out if isinstance(out, Response) else JSONResponse(score_to_jsonable(out))
        logger.error(
            "cadence %r failed on %s %s", cadence.name, request.method, request.url.path, exc_info=exc
        )
        return error_response(exc, expose_errors=expose)


def _typed_signature(view: Callable[..., Any]) -> inspect.Signature:
    """The view's signature with string annotations resolved in the view's own module."""
    signature = inspect.signature(view)
    try:
        hints = typing.get_type_hints(view, include_extras=True)
    except Exception:
        hints = {}
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(parameters=params)
