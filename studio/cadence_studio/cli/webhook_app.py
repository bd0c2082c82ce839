"""The webhook server's FastAPI app: one ``POST /cadences/{name}`` per cadence of a TARGET.

This module runs in the webhook server's process, which IS the service: it imports the user's module
(with the worker side's loader) and runs the cadences here, one run per request (the terminal UI is
not involved). A request:

- body: the initial score as a JSON object, validated with pydantic against the score's type (the
  worker's :func:`~cadence_studio.worker.score_input.score_from_input`, as the studio's score input);
  no body (or ``null``) runs on a fresh copy of the cadence's construction score. A bad body is a 422
  whose ``detail`` names each field, the type it expects and the fix;
- query parameters: a factory cadence's arguments (``?user_id=u-42``; a value is JSON when it parses,
  else text, as ``cadence-studio run --arg``), validated against the factory's signature;
- answer: 200 ``{"cadence", "status", "score", "duration"}`` for a run that ended (done, skipped,
  interrupted); a failed run answers as the engine's web integrations do (504 a timeout, 503 an open
  circuit, 500 otherwise: :func:`cadence.integrations._common.classify_error`), with a body naming the
  failing note, the error's type and its message, and the score as it stood.

``GET /cadences`` lists the routes with each score's JSON schema; FastAPI's ``/docs`` shows them too.
With a token every route (docs included) needs ``Authorization: Bearer TOKEN`` (401 otherwise).
Each run is recorded in the project's run history (as ``cadence-studio run`` records its runs: the
same protocol messages, so ``cadence-studio history`` and the studio show them) and its events feed
``--metrics-port``'s reporter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from cadence import Cadence
from cadence.events import Event, RunFinished
from cadence.integrations._common import classify_error, error_chain

from .. import protocol as p
from ..store.history import History
from ..worker.catalog import catalog_entry, factory_args, tree
from ..worker.loader import Found
from ..worker.score_copy import fresh_score
from ..worker.score_input import ScoreInputError, score_from_input, score_schema, score_to_jsonable
from ..worker.tracebacks import USER_ERRORS, error_info

__all__ = ["OK_STATUSES", "Route", "make_app", "parse_query_value", "routes_for"]

#: Run statuses answered with 200 (a run that ended cleanly, also by Skip or an interrupt).
OK_STATUSES = frozenset({"done", "skipped", "interrupted"})

EventSink = Callable[[dict[str, Any]], None]


def parse_query_value(text: str) -> Any:
    """A query parameter's value: JSON when it parses (``3``, ``true``, ``["a"]``), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclasses.dataclass
class Route:
    """One cadence (or factory) and what ``GET /cadences`` says of it."""

    found: Found
    entry: p.CadenceEntry

    @property
    def name(self) -> str:
        return self.found.name

    @property
    def path(self) -> str:
        return f"/cadences/{self.name}"

    def listing(self) -> dict[str, Any]:
        entry = self.entry
        return {
            "name": self.name,
            "route": self.path,
            "method": "POST",
            "kind": entry.kind,
            "doc": entry.doc,
            "score_type": entry.score_type,
            "schema": entry.score_schema,
            "example": entry.score_json,
            "kept": entry.score_kept,
            "args": [
                {"name": q.name, "annotation": q.annotation, "required": q.required, "default": q.default}
                for q in entry.params
            ],
            "error": entry.error.message if entry.error is not None else None,
        }


def _expected(schema: dict[str, Any] | None, field: str) -> str | None:
    """The type a score field expects, in JSON schema words (``integer``, ``array of LineItem``)."""
    if not schema or not field:
        return None
    prop = schema.get("properties", {}).get(field)
    if not isinstance(prop, dict):
        return None
    return _schema_words(prop)


def _schema_words(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_schema_words(part) for part in prop["anyOf"] if isinstance(part, dict))
    kind = prop.get("type")
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"array of {_schema_words(prop['items'])}"
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v) for v in prop["enum"])
    return str(kind) if kind else "any JSON value"


def _unprocessable(items: list[dict[str, Any]], message: str) -> JSONResponse:
    return JSONResponse({"detail": items, "message": message}, status_code=422)


def _score_problems(route: Route, error: ScoreInputError, schema: dict[str, Any] | None) -> JSONResponse:
    items = []
    for field, text in error.items:
        expected = _expected(schema, field)
        if field and expected is None and schema is not None and field not in schema.get("properties", {}):
            fix = f"leave {field!r} out: GET /cadences lists {route.name!r}'s fields"
        elif field:
            wanted = expected or "the type its schema gives"
            fix = f"send {field!r} as {wanted} (GET /cadences shows the schema)"
        else:
            fix = f"send a JSON object of {route.entry.score_type or 'score'} fields, or no body"
        items.append(
            {
                "loc": ["body", field] if field else ["body"],
                "field": field or None,
                "msg": text,
                "expected": expected,
                "fix": fix,
            }
        )
    return _unprocessable(items, str(error))


def _bad_body(route: Route, why: str) -> JSONResponse:
    what = route.entry.score_type or "score"
    fix = f"send a JSON object of {what} fields (GET /cadences shows them), or no body for its own score"
    return _unprocessable(
        [{"loc": ["body"], "field": None, "msg": why, "expected": "object", "fix": fix}],
        f"{route.name}: {why}",
    )


class _RunRecord:
    """The run's messages for the run history (the worker's protocol, as ``cadence-studio run`` stores)
    and its events for the metrics."""

    def __init__(self, history: History | None, target: str, on_event: EventSink | None) -> None:
        self.recorder = history.recorder(target) if history is not None else None
        self.on_event = on_event

    def began(self, message: p.RunBegan) -> None:
        if self.recorder is not None:
            self.recorder.observe(message)

    def event(self, event: Event) -> None:
        data = event.as_dict()
        if self.on_event is not None:
            self.on_event(data)
        if self.recorder is not None:
            snapshots = getattr(event, "snapshots", None)
            self.recorder.observe(
                p.EventMessage(
                    run=1,
                    event=data,
                    score=tree(getattr(event, "score", None)),
                    snapshots=[tree(s) for s in snapshots] if snapshots else None,
                )
            )

    async def ended(self, message: p.RunEnded) -> None:
        if self.recorder is not None:
            self.recorder.observe(message)
            await asyncio.to_thread(self.recorder.close)  # written before the answer leaves


def _failure(
    name: str, exc: BaseException, score: Any, duration: float, status: str = "failed"
) -> JSONResponse:
    """A failed run's answer: the engine's status code and code, the note, the error's type and text."""
    reply = classify_error(exc) if isinstance(exc, Exception) else classify_error(RuntimeError(str(exc)))
    original = error_chain(exc)[-1]
    body = {
        "cadence": name,
        "status": status,
        "error": {
            "code": reply.code,
            "note": reply.note,
            "type": type(original).__name__,
            "message": str(original),
        },
        "score": score_to_jsonable(score),
        "duration": duration,
    }
    return JSONResponse(body, status_code=reply.status, headers=dict(reply.headers) or None)


class _Runner:
    """Runs one route's cadence per request and records it."""

    def __init__(
        self, route: Route, target: str, history: History | None, on_event: EventSink | None
    ) -> None:
        self.route = route
        self.target = target
        self.history = history
        self.on_event = on_event

    def _cadence(self, args: dict[str, Any]) -> Cadence[Any]:
        found = self.route.found
        if found.kind == "cadence":
            if args:
                given = ", ".join(map(repr, args))
                msg = f"{found.name!r} is a cadence, not a factory: it takes no query parameters ({given})"
                raise ScoreInputError(msg, fields=list(args))
            return found.obj  # type: ignore[no-any-return]
        made = found.obj(**factory_args(found.obj, args))
        if not isinstance(made, Cadence):
            msg = f"{found.name}() returned {type(made).__name__}, not a Cadence"
            raise TypeError(msg)
        return made

    async def __call__(self, request: Request) -> Response:
        name = self.route.name
        args = {key: parse_query_value(value) for key, value in request.query_params.items()}
        try:
            data = await _body(request)
        except ValueError as error:
            return _bad_body(self.route, str(error))
        try:
            cadence = self._cadence(args)
        except ScoreInputError as error:
            items = [
                {
                    "loc": ["query", f],
                    "field": f,
                    "msg": str(error),
                    "expected": None,
                    "fix": _args_fix(self.route),
                }
                for f in error.fields or [""]
            ]
            return _unprocessable(items, str(error))
        except USER_ERRORS as error:  # the user's factory raised
            return _failure(name, error, None, 0.0)
        base = cadence.get_score()
        try:
            if data is None:
                score, _ = fresh_score(base)
            elif base is None:
                return _bad_body(
                    self.route, f"cadence {cadence.name!r} has no score type to read a body into"
                )
            else:
                score = score_from_input(base, data)
        except ScoreInputError as error:
            schema = self.route.entry.score_schema
            if self.route.found.kind == "factory":  # the score type of the cadence these arguments built
                schema = score_schema(type(base))
            return _score_problems(self.route, error, schema)
        except USER_ERRORS as error:  # the score's __post_init__ raised something else
            return _failure(name, error, None, 0.0)
        return await self._run(cadence, score, args, data)

    async def _run(
        self, cadence: Cadence[Any], score: Any, args: dict[str, Any], data: dict[str, Any] | None
    ) -> Response:
        name = self.route.name
        record = _RunRecord(self.history, self.target, self.on_event)
        record.began(p.RunBegan(run=1, target=name, graph=cadence.describe(), args=args, score=data))
        final: dict[str, Any] = {}

        def listener(event: Event) -> None:
            record.event(event)
            if isinstance(event, RunFinished) and event.depth == 0:
                final.update(status=event.status, error=event.error, duration=event.duration)

        start = time.perf_counter()
        try:
            result = await cadence.run(score, listeners=[listener])
        except USER_ERRORS as error:
            duration = final.get("duration") or time.perf_counter() - start
            await record.ended(
                p.RunEnded(
                    run=1, status="failed", score=tree(score), error=error_info(error), duration=duration
                )
            )
            return _failure(name, error, score, duration)
        except asyncio.CancelledError:  # the server is shutting down
            await record.ended(p.RunEnded(run=1, status="stopped", score=tree(score)))
            raise
        status = final.get("status", "done")
        handled = final.get("error")
        duration = final.get("duration") or time.perf_counter() - start
        await record.ended(
            p.RunEnded(
                run=1,
                status=status,
                score=tree(result),
                error=error_info(handled) if handled is not None else None,
                duration=duration,
            )
        )
        if status not in OK_STATUSES and isinstance(handled, BaseException):
            return _failure(name, handled, result, duration, status)
        body = {"cadence": name, "status": status, "score": score_to_jsonable(result), "duration": duration}
        return JSONResponse(body)


def _args_fix(route: Route) -> str:
    if route.entry.kind != "factory":
        return "drop the query parameters: only a factory cadence takes arguments"
    names = ", ".join(f"{q.name}{'' if q.required else ' (optional)'}" for q in route.entry.params)
    return f"pass the factory's arguments as query parameters: {names or 'none'}"


async def _body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or None for no body (or ``null``); ValueError for anything else."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        msg = f"the body is not JSON ({error})"
        raise ValueError(msg) from None
    if data is None:
        return None
    if not isinstance(data, dict):
        msg = f"the body must be a JSON object of score fields, not {type(data).__name__}"
        raise ValueError(msg)
    return data


def _openapi(route: Route) -> dict[str, Any]:
    """The route's request in the OpenAPI document (/docs): the score's schema, the factory's arguments."""
    schema = route.entry.score_schema or {"type": "object"}
    if "$defs" in schema:  # /docs resolves references from the document's root: keep them inline
        schema = _inline(schema, schema["$defs"])
    extra: dict[str, Any] = {
        "requestBody": {"required": False, "content": {"application/json": {"schema": schema}}}
    }
    if route.entry.params:
        extra["parameters"] = [
            {"name": q.name, "in": "query", "required": q.required, "schema": {}, "description": q.annotation}
            for q in route.entry.params
        ]
    return extra


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.rsplit("/", 1)[-1], {})
            return _inline(target, defs, depth + 1) if depth < 8 else {"type": "object"}
        return {k: _inline(v, defs, depth) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs, depth) for v in node]
    return node


def _token_guard(
    token: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    expected = f"Bearer {token}".encode()

    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            why = "missing" if not given else "wrong"
            return JSONResponse(
                {"detail": f"{why} bearer token: send the header 'Authorization: Bearer TOKEN'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await call_next(request)

    return guard


def routes_for(found: list[Found]) -> list[Route]:
    """A route per cadence or factory (its catalog entry computed once, as the studio's worker does)."""
    return [Route(f, catalog_entry(f)) for f in found]


def make_app(
    target: str,
    routes: list[Route],
    *,
    token: str | None = None,
    history: History | None = None,
    on_event: EventSink | None = None,
) -> FastAPI:
    """The FastAPI app serving ``routes`` (``target``: the TARGET as given, what history records)."""
    app = FastAPI(
        title=f"Cadence webhook: {target}",
        description="POST a score to run a cadence; GET /cadences lists them with their score schemas.",
    )
    app.state.cadence_routes = routes
    if token is not None:
        app.middleware("http")(_token_guard(token))

    async def list_routes() -> dict[str, Any]:
        return {"target": target, "cadences": [route.listing() for route in routes]}

    app.add_api_route("/cadences", list_routes, methods=["GET"], summary="The cadences and their schemas")
    for route in routes:
        app.add_api_route(
            route.path,
            _Runner(route, target, history, on_event).__call__,
            methods=["POST"],
            name=f"run {route.name}",
            summary=f"Run {route.name}"
            + (" (factory: arguments as query parameters)" if route.entry.kind == "factory" else ""),
            description=route.entry.doc or "",
            openapi_extra=_openapi(route),
        )
    return app
