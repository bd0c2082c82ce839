"""How a Flask request runs a cadence: the view function built around a user's view, its answers
and its errors.

Shared by ``CadenceBlueprint.cadence_route``, ``cadence_route``, ``with_cadence`` and
``register_cadence`` (``cadence.integrations.flask``), so every one of them runs each request on its
own fresh score and answers errors the same way.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, g, has_app_context, jsonify, request
from werkzeug.wrappers import Response

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._common import ErrorReply, RequestRuns
from ._flask_loop import LOOP

logger = logging.getLogger("cadence.integrations.flask")

#: ``mapper(score)`` (sync or async): a ``Response``, a Flask ``(body, status[, headers])`` tuple,
#: or anything else, answered as JSON.
ResponseMapper = Callable[[Any], Any]
#: ``handler(exc)`` (sync or async), with ``flask.request`` available: the answer for an error of
#: the type it is registered for (same forms as a mapper's).
ErrorHandler = Callable[[BaseException], Any]

#: Where ``CadenceExtension`` keeps the request's runs, in ``flask.g``.
RUNS_KEY = "_cadence_request_runs"


def _flask_encoder(value: Any) -> Any:
    return json.loads(current_app.json.dumps(value))


def score_to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: dataclasses field by field, ``Atomic`` types by their contents.

    Anything else goes through the current app's JSON provider (dates, UUIDs, decimals ...) when
    there is an app context, and if even that fails, ``repr``. Cycles are cut.
    """
    return _common.score_to_jsonable(value, _flask_encoder if has_app_context() else None)


def as_json(value: Any) -> Response:
    response: Response = jsonify(score_to_jsonable(value))
    return response


def reply(answer: ErrorReply, *, expose_errors: bool = False) -> Response:
    response = as_json(answer.as_body(expose_errors=expose_errors))
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response


def error_response(exc: BaseException, *, expose_errors: bool = False) -> Response:
    """The JSON error response for a failed run (needs an app context); no traceback, no ``repr``,
    and the error's own text only with ``expose_errors``."""
    return reply(_common.classify_error(exc), expose_errors=expose_errors)


def to_response(out: Any) -> Response:
    """A mapper's or handler's result as a response: a ``Response`` as is, a Flask tuple
    ``(body, status[, headers])`` / ``(body, headers)`` with its body answered as JSON, else JSON."""
    if isinstance(out, Response):
        return out
    if isinstance(out, tuple) and 2 <= len(out) <= 3:
        body, *rest = out
        body = body if isinstance(body, Response) else as_json(body)
        response: Response = current_app.make_response((body, *rest))
        return response
    return as_json(out)


@dataclasses.dataclass
class Settings:
    """What a route's runs are answered with; a ``CadenceBlueprint`` is one too (read per request).

    ``expose_errors`` and ``checkpoint`` left ``None`` fall back to the app's ``CADENCE_EXPOSE_ERRORS``
    and ``CADENCE_CHECKPOINT`` (see ``CadenceExtension``).
    """

    response_mapper: ResponseMapper | None = None
    expose_errors: bool | None = None
    error_handlers: Mapping[type[BaseException], ErrorHandler] = dataclasses.field(default_factory=dict)
    checkpoint: CheckpointStore | None = None


def _expose(settings: Any, expose_errors: bool | None) -> bool:
    for choice in (expose_errors, settings.expose_errors):
        if choice is not None:
            return bool(choice)
    return bool(current_app.config.get("CADENCE_EXPOSE_ERRORS", False))


def _checkpoint(settings: Any) -> CheckpointStore | None:
    store: CheckpointStore | None = settings.checkpoint or current_app.config.get("CADENCE_CHECKPOINT")
    return store


def copy_of_construction(cadence: Cadence[Any]) -> Callable[[], Any]:
    """A view that returns a deep copy of the cadence's construction score (for routes without one)."""
    construction = cadence.get_score()
    if construction is None:
        msg = f"cadence {cadence.name!r} has no score to copy; give the route a view that returns one"
        raise ValueError(msg)

    def view(**_: Any) -> Any:
        return copy.deepcopy(construction)

    view.__name__ = view.__qualname__ = f"run_{cadence.name}"
    return view


def make_view(
    view: Callable[..., Any],
    cadence: Cadence[Any],
    settings: Settings | Any,
    mapper: ResponseMapper | None = None,
    expose_errors: bool | None = None,
) -> Callable[..., Response]:
    """A Flask view function that runs ``cadence`` on the fresh score ``view`` returns."""

    def endpoint(**kwargs: Any) -> Response:
        expose = _expose(settings, expose_errors)
        score = view(**kwargs)
        if inspect.isawaitable(score):
            score = LOOP.run(score)
        if isinstance(score, tuple | Response):  # the view answered itself: a response, not a score
            response: Response = current_app.make_response(score)
            return response
        if _common.is_invalid_score(score, cadence):
            invalid = _common.invalid_score(view, cadence)
            logger.error("%s", invalid.message)
            return reply(invalid, expose_errors=expose)
        chosen = mapper or settings.response_mapper
        runs: RequestRuns | None = g.get(RUNS_KEY)
        options = _common.run_options(_checkpoint(settings), runs)
        started = time.perf_counter()
        try:
            try:
                result = LOOP.run(cadence.run(score, **options))
            finally:
                if runs is not None:
                    runs.seconds += time.perf_counter() - started
            if chosen is None:
                return as_json(result)
            out = chosen(result)
            if inspect.isawaitable(out):
                out = LOOP.run(out)
            return to_response(out)
        except Exception as exc:
            return on_error(settings.error_handlers, cadence, exc, expose)

    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        if hasattr(view, attr):
            setattr(endpoint, attr, getattr(view, attr))
    return endpoint


def on_error(
    handlers: Mapping[type[BaseException], ErrorHandler], cadence: Cadence[Any], exc: Exception, expose: bool
) -> Response:
    """A custom handler's answer for ``exc`` (or the error it wraps), else the standard JSON body."""
    found = _common.find_handler(handlers, exc)
    if found is not None:
        handler, err = found
        try:
            out = handler(err)
            if inspect.isawaitable(out):
                out = LOOP.run(out)
            return to_response(out)
        except Exception as failure:
            logger.error(
                "the error handler %r of cadence %r failed on %s %s",
                handler,
                cadence.name,
                request.method,
                request.path,
                exc_info=failure,
            )
            return reply(_common.internal_error())
    logger.error("cadence %r failed on %s %s", cadence.name, request.method, request.path, exc_info=exc)
    return reply(_common.classify_error(exc), expose_errors=expose)
