"""``CadenceDependency`` and ``CadenceMiddleware`` of ``cadence.integrations.fastapi``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import MutableHeaders

from ..cadence import Cadence
from ..checkpoint import CheckpointStore
from . import _common
from ._common import ErrorReply, RequestRuns
from ._fastapi_run import REQUEST_RUNS, call, fresh_score, logger, run_cadence, typed_signature

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class CadenceHTTPException(HTTPException):
    """A failed run inside :class:`CadenceDependency`: FastAPI answers it with the status and headers
    of the failure and ``{"detail": {"code": ..., "message": ..., "note": ...}}``.

    ``reply`` is the whole answer (status, code, the error's own text in ``reply.message``).
    """

    def __init__(self, reply: ErrorReply, *, expose_errors: bool = False) -> None:
        detail = reply.as_body(expose_errors=expose_errors)["error"]
        super().__init__(reply.status, detail=detail, headers=dict(reply.headers) or None)
        self.reply = reply


class CadenceDependency:
    """A dependency that gives the route a fresh score already run through ``cadence``.

    ::

        @app.post("/orders/{order_id}")
        async def create_order(score: OrderScore = Depends(CadenceDependency(checkout, new_order))):
            return {"total": score.total}

    ``score_factory`` takes any FastAPI parameters (path, query, body, other dependencies), sync or
    async, and returns a fresh score for the request; without one, each request runs on a deep copy
    of the cadence's construction score. FastAPI calls the dependency once per request, so each
    request has its own score and run. A failed run raises :class:`CadenceHTTPException` (504 for a
    timeout, 503 with ``Retry-After`` for an open circuit, 500 otherwise; the error's own text only
    with ``expose_errors``).
    """

    def __init__(
        self,
        cadence: Cadence[Any],
        score_factory: Callable[..., Any] | None = None,
        *,
        expose_errors: bool = False,
        checkpoint: CheckpointStore | None = None,
    ) -> None:
        self.cadence = cadence
        self.score_factory = score_factory
        self.expose_errors = expose_errors
        self.checkpoint = checkpoint
        signature = typed_signature(score_factory) if score_factory is not None else inspect.Signature()
        # FastAPI reads the dependency's parameters from here: the factory's own.
        self.__signature__ = signature.replace(return_annotation=inspect.Signature.empty)

    async def __call__(self, **kwargs: Any) -> Any:
        """Build the request's score, run the cadence on it, and give it to the route."""
        if self.score_factory is None:
            score = fresh_score(self.cadence)
        else:
            score = await call(self.score_factory, **kwargs)
        if _common.is_invalid_score(score, self.cadence):
            invalid = _common.invalid_score(self.score_factory or self.__call__, self.cadence)
            logger.error("%s", invalid.message)
            raise CadenceHTTPException(invalid, expose_errors=self.expose_errors)
        try:
            return await run_cadence(self.cadence, score, self.checkpoint)
        except Exception as exc:
            logger.error("cadence %r failed in a dependency", self.cadence.name, exc_info=exc)
            raise CadenceHTTPException(_common.classify_error(exc), expose_errors=self.expose_errors) from exc

    def __repr__(self) -> str:
        return f"CadenceDependency({self.cadence.name!r}, {self.score_factory!r})"


class CadenceMiddleware:
    """ASGI middleware: each request gets a run id, and a response whose request ran a cadence says
    which run it was and how long it took.

    ::

        app.add_middleware(CadenceMiddleware)

    The request's runs (any route of this module, a ``CadenceRouter`` route, a ``CadenceDependency``)
    run under the request's id (``req-<hex>``; a second run in the same request ``<id>.2``), so hooks
    and events (``cadence.hooks.current_run_id()``) see the id the client gets. Headers:
    ``run_id_header`` (the id), ``timing_header`` (seconds spent running cadences) and
    ``Server-Timing: cadence;dur=<ms>``; ``None`` turns one off. A request that ran no cadence gets none.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        run_id_header: str | None = "X-Cadence-Run-Id",
        timing_header: str | None = "X-Cadence-Duration",
    ) -> None:
        self.app = app
        self.run_id_header = run_id_header
        self.timing_header = timing_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runs = RequestRuns()
        token = REQUEST_RUNS.set(runs)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = runs.headers(self.run_id_header, self.timing_header)
                if extra:
                    headers = MutableHeaders(scope=message)
                    for key, value in extra.items():
                        headers[key] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            REQUEST_RUNS.reset(token)
