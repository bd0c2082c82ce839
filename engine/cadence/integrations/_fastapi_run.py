"""How a FastAPI request runs a cadence: the endpoint built around a view, its errors, the JSON.

Shared by ``CadenceRouter.cadence``, ``with_cadence``, ``cadence_endpoint`` and ``CadenceDependency``
(``cadence.integrations.fastapi``), so every one of them runs each request on its own fresh score and
answers errors the same way.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import functools
import inspect
import logging
import time
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._common import ErrorReply, RequestRuns

logger = logging.getLogger("cadence.integrations.fastapi")

#: ``mapper(score)``: what the endpoint answers (a ``Response``, or anything FastAPI can encode).
ResponseMapper = Callable[[Any], Any]
#: ``handler(request, exc)``: the response for an error of the type it is registered for.
ErrorHandler = Callable[[Request | None, BaseException], Any]

#: The runs of the request being served, when ``CadenceMiddleware`` wraps the app.
REQUEST_RUNS: contextvars.ContextVar[RequestRuns | None] = contextvars.ContextVar(
    "cadence_request_runs", default=None
)


def score_to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: dataclasses field by field, ``Atomic`` types by their contents.

    Anything else goes through FastAPI's ``jsonable_encoder``, and if even that fails, ``repr``.
    Cycles are cut (the repeated object becomes its ``repr``).
    """
    return _common.score_to_jsonable(value, jsonable_encoder)


def reply(answer: ErrorReply, *, expose_errors: bool = False) -> JSONResponse:
    body = answer.as_body(expose_errors=expose_errors)
    return JSONResponse(body, status_code=answer.status, headers=dict(answer.headers) or None)


def error_response(exc: BaseException, *, expose_errors: bool = False) -> JSONResponse:
    """The JSON error response for a failed run; no traceback, no ``repr`` of foreign errors, and the
    error's own text only with ``expose_errors``."""
    return reply(_common.classify_error(exc), expose_errors=expose_errors)


@dataclasses.dataclass
class Settings:
    """What a route's runs are answered with; a ``CadenceRouter`` is one too (read per request)."""

    response_mapper: ResponseMapper | None = None
    expose_errors: bool = False
    error_handlers: Mapping[type[BaseException], ErrorHandler] = dataclasses.field(default_factory=dict)
    checkpoint: CheckpointStore | None = None


async def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """``fn(**kwargs)``: a coroutine function on the loop, a plain ``def`` in Starlette's pool (it
    may block); an awaitable result is awaited."""
    if inspect.iscoroutinefunction(fn):
        out = fn(**kwargs)
    else:
        out = await run_in_threadpool(functools.partial(fn, **kwargs))
    if inspect.isawaitable(out):
        out = await out
    return out


async def run_cadence(cadence: Cadence[Any], score: Any, checkpoint: CheckpointStore | None) -> Any:
    """``await cadence.run(score)`` under the request's run id, its time added to the request's."""
    runs = REQUEST_RUNS.get()
    options = _common.run_options(checkpoint, runs)
    started = time.perf_counter()
    try:
        return await cadence.run(score, **options)
    finally:
        if runs is not None:
            runs.seconds += time.perf_counter() - started


def fresh_score(cadence: Cadence[Any]) -> Any:
    """A deep copy of the cadence's construction score: the score of a route that has no view."""
    score = cadence.get_score()
    if score is None:
        msg = f"cadence {cadence.name!r} has no score to copy; give the route a view that returns one"
        raise ValueError(msg)
    return copy.deepcopy(score)


def make_endpoint(
    view: Callable[..., Any],
    cadence: Cadence[Any],
    settings: Settings | Any,
    mapper: ResponseMapper | None = None,
    expose_errors: bool | None = None,
) -> Callable[..., Awaitable[Any]]:
    """An endpoint with the view's parameters (and the request) that runs the cadence on the score
    the view returns. ``settings`` (a :class:`Settings` or a ``CadenceRouter``) is read per request."""
    signature = typed_signature(view)
    request_name = "cadence_request"
    while request_name in signature.parameters:
        request_name = f"_{request_name}"
    params = list(signature.parameters.values())
    extra = inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
    at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params))
    params.insert(at, extra)

    @functools.wraps(view)
    async def endpoint(**kwargs: Any) -> Any:
        request: Request = kwargs.pop(request_name)
        expose = settings.expose_errors if expose_errors is None else expose_errors
        score = await call(view, **kwargs)
        if isinstance(score, Response):  # the view answered itself: a response, not a score
            return score
        if _common.is_invalid_score(score, cadence):
            invalid = _common.invalid_score(view, cadence)
            logger.error("%s", invalid.message)
            return reply(invalid, expose_errors=expose)
        chosen = mapper or settings.response_mapper
        try:
            result = await run_cadence(cadence, score, settings.checkpoint)
            if chosen is None:
                return score_to_jsonable(result)
            out = chosen(result)
            if inspect.isawaitable(out):
                out = await out
        except Exception as exc:
            return await on_error(settings.error_handlers, request, cadence, exc, expose)
        return out

    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=inspect.Signature.empty
    )
    return endpoint


async def on_error(
    handlers: Mapping[type[BaseException], ErrorHandler],
    request: Request,
    cadence: Cadence[Any],
    exc: Exception,
    expose: bool,
) -> Any:
    """A custom handler's answer for ``exc`` (or the error it wraps), else the standard JSON body."""
    found = _common.find_handler(handlers, exc)
    if found is not None:
        handler, err = found
        out = handler(request, err)
        if inspect.isawaitable(out):
            out = await out
        return out if isinstance(out, Response) else JSONResponse(score_to_jsonable(out))
    logger.error("cadence %r failed on %s %s", cadence.name, request.method, request.url.path, exc_info=exc)
    return error_response(exc, expose_errors=expose)


def typed_signature(view: Callable[..., Any]) -> inspect.Signature:
    """The view's signature with string annotations resolved in the view's own module."""
    signature = inspect.signature(view)
    try:
        hints = typing.get_type_hints(view, include_extras=True)
    except Exception:
        hints = {}
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(parameters=params)
