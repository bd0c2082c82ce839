"""``CadenceBlueprint`` served by real servers on 127.0.0.1 (Werkzeug's threaded development server
and waitress, a production WSGI server), driven by a real httpx client."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import waitress
from flask import Flask, Response, abort, g, request
from waitress import wasyncore

from cadence import (
    Atomic,
    Cadence,
    CadenceHooks,
    MergeStrategy,
    Score,
    Skip,
    circuit_breaker,
    note,
    retry,
    timeout,
)
from cadence.hooks import current_run_id
from cadence.integrations.flask import (
    CadenceBlueprint,
    CadenceExtension,
    cadence_route,
    register_cadence,
    score_to_jsonable,
    with_cadence,
)
from cadence.resilience import get_circuit
from tests.integrations.servers import serve_werkzeug

#: Worker threads of waitress (its default is 4; the development server has a thread per connection).
WAITRESS_THREADS = 32
SERVERS = ["werkzeug", "waitress"]

# ---------------------------------------------------------------------------- where code runs


class Places:
    """Every (event loop, loop thread) a note ran on, and every thread a sync view ran on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loops: set[tuple[int, int]] = set()
        self.view_threads: set[int] = set()

    def note_loop(self) -> None:
        here = (id(asyncio.get_running_loop()), threading.get_ident())
        with self.lock:
            self.loops.add(here)

    def note_view(self) -> None:
        with self.lock:
            self.view_threads.add(threading.get_ident())


places = Places()

# ---------------------------------------------------------------------------- the cadence under test


@dataclass
class OrderScore(Score):
    order_id: str = ""
    a: int = 0
    b: int = 0
    tags: list[str] = field(default_factory=list)
    total: int = 0
    product: int = 0
    kind: str = ""
    signature: str = ""
    marker: str = ""
    path: str = ""
    seen: Atomic[int] = field(default_factory=lambda: Atomic(0))
    loop_id: int = 0


@dataclass
class AuditScore(Score):
    stamps: list[str] = field(default_factory=list)
    count: int = 0


async def add(score: OrderScore) -> None:
    await asyncio.sleep(0)
    places.note_loop()
    score.total = score.a + score.b
    score.path = request.path  # the request's own context, inside an async note
    score.seen.update(lambda n: n + 1)


def multiply(score: OrderScore) -> None:
    score.product = score.a * score.b
    score.marker = g.marker  # and inside a sync note, in the engine's thread pool
    score.seen.update(lambda n: n + 1)


async def tag(score: OrderScore) -> None:
    await asyncio.sleep(0)
    score.tags.append(f"{score.order_id}:tagged:{request.args['a']}")


def is_even(score: OrderScore) -> bool:
    return (score.total + score.product) % 2 == 0


def even(score: OrderScore) -> None:
    score.kind = f"even:{score.order_id}"


async def odd(score: OrderScore) -> None:
    await asyncio.sleep(0)
    score.kind = f"odd:{score.order_id}"


async def stamp(score: AuditScore) -> None:
    await asyncio.sleep(0)
    score.stamps.append("audited")
    score.count += 1


def merge_audit(parent: OrderScore, child: AuditScore) -> None:
    parent.signature = f"{parent.order_id}#{child.stamps}#{child.count}#{parent.total * 3}"


class CountingHooks(CadenceHooks):
    def __init__(self) -> None:
        self.started = 0
        self.finished = 0
        self.run_ids: dict[str, str | None] = {}  # order id -> the id of the run that served it
        self.lock = threading.Lock()

    def before_cadence(self, name: str, score: Any) -> None:
        if name == "checkout":
            with self.lock:
                self.started += 1

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        if name == "checkout":  # children report to the parent's hooks too
            with self.lock:
                self.finished += 1
                self.run_ids[score.order_id] = current_run_id()


hooks = CountingHooks()
audit = Cadence("audit", AuditScore(stamps=["base"])).then("stamp", stamp)
CONSTRUCTION = OrderScore(order_id="construction", a=-1, b=-2, tags=["base"])
checkout = (
    Cadence("checkout", CONSTRUCTION)
    .with_hooks(hooks)
    .sync("compute", [add, multiply, tag], merge_strategy=MergeStrategy.smart_merge)
    .split("parity", is_even, even, [odd])
    .child("audit", audit, merge_audit)
)
CONSTRUCTION_BEFORE = copy.deepcopy(CONSTRUCTION)
AUDIT_BEFORE = copy.deepcopy(audit.get_score())


def expected(order_id: str, a: int, b: int, tags: list[str], prefix: str = "/api") -> dict[str, Any]:
    total, product = a + b, a * b
    return {
        "order_id": order_id,
        "a": a,
        "b": b,
        "tags": [*tags, f"{order_id}:tagged:{a}"],
        "total": total,
        "product": product,
        "kind": f"{'even' if (total + product) % 2 == 0 else 'odd'}:{order_id}",
        "signature": f"{order_id}#['base', 'audited']#1#{total * 3}",
        "marker": f"marker-{order_id}",
        "path": f"{prefix}/orders/{order_id}",
        "seen": 2,
        "loop_id": 0,
    }


# ---------------------------------------------------------------------------- error cadences


@note
def explode(score: OrderScore) -> None:
    msg = f"secret boom for {score.order_id}"
    raise ValueError(msg)


@timeout(0.05)
async def too_slow(score: OrderScore) -> None:
    await asyncio.sleep(5)


@retry(2, delay=0, jitter=False)
@timeout(0.02)
async def slow_twice(score: OrderScore) -> None:
    await asyncio.sleep(5)


CIRCUIT = f"flask-test-circuit-{time.monotonic_ns()}"


@circuit_breaker(failure_threshold=1, recovery_timeout=60, name=CIRCUIT)
def flaky(score: OrderScore) -> None:
    msg = "downstream is down"
    raise ConnectionError(msg)


def first(score: OrderScore) -> None:
    score.kind = "first"


def skip(score: OrderScore) -> None:
    raise Skip("nothing to do")


def never(score: OrderScore) -> None:
    score.kind = "never"


def stop_here(score: OrderScore) -> bool:
    score.total = 42
    return True


def missing_key(score: OrderScore) -> None:
    raise KeyError(score.order_id)


async def divide(score: OrderScore) -> None:
    score.total = 1 // score.a


def forbidden(score: OrderScore) -> None:
    raise PermissionError("handler secret")


failing = Cadence("failing", OrderScore()).then("first", first).then("explode", explode)
slow = Cadence("slow", OrderScore()).then("too_slow", too_slow)
slow_retried = Cadence("slow_retried", OrderScore()).then("slow_twice", slow_twice)
circuit = Cadence("circuit", OrderScore()).then("flaky", flaky)
skipping = Cadence("skipping", OrderScore()).then("first", first).then("skip", skip).then("never", never)
interrupting = (
    Cadence("interrupting", OrderScore()).then("stop", stop_here, can_interrupt=True).then("never", never)
)
keyed = Cadence("keyed", OrderScore()).then("missing_key", missing_key)
dividing = Cadence("dividing", OrderScore()).then("divide", divide)
forbidding = Cadence("forbidding", OrderScore()).then("forbidden", forbidden)


# ---------------------------------------------------------------------------- rendezvous


@dataclass
class MeetScore(Score):
    name: str = ""
    group: str = ""
    size: int = 0
    view_thread: int = 0
    loop_thread: int = 0
    loop_id: int = 0
    met: int = 0


#: group -> (arrived, everyone is here); touched only on the shared loop, so without a lock.
_groups: dict[str, tuple[list[str], asyncio.Event]] = {}


async def meet(score: MeetScore) -> None:
    """Wait until ``size`` requests of the group are all inside this note at once."""
    arrived, everyone = _groups.setdefault(score.group, ([], asyncio.Event()))
    arrived.append(score.name)
    if len(arrived) == score.size:
        everyone.set()
    await asyncio.wait_for(everyone.wait(), 20)  # an error (504) rather than a hang if they never meet
    score.met = len(arrived)
    score.loop_thread = threading.get_ident()
    score.loop_id = id(asyncio.get_running_loop())


meeting = Cadence("meeting", MeetScore()).then("meet", meet)


# ---------------------------------------------------------------------------- the app


def teapot(exc: BaseException) -> Any:
    return {"teapot": str(exc), "path": request.path}, 418


async def divided_by_zero(exc: BaseException) -> Response:
    await asyncio.sleep(0)
    return Response(f"no division: {type(exc).__name__}", status=409, mimetype="text/plain")


def broken_handler(exc: BaseException) -> Any:
    msg = "the handler's own secret"
    raise RuntimeError(msg)


api = CadenceBlueprint(
    "api",
    __name__,
    url_prefix="/api",
    error_handlers={KeyError: teapot, ZeroDivisionError: divided_by_zero, PermissionError: broken_handler},
)


@api.cadence_route("/orders/<order_id>", checkout)
def create_order(order_id: str) -> OrderScore:
    places.note_view()
    g.marker = f"marker-{order_id}"
    payload = request.get_json()
    return OrderScore(order_id=order_id, a=int(request.args["a"]), b=payload["b"], tags=list(payload["tags"]))


@api.cadence_route("/async-view/<order_id>", checkout, methods=["GET"])
async def async_view(order_id: str) -> OrderScore:
    await asyncio.sleep(0)
    g.marker = f"marker-{order_id}"
    return OrderScore(
        order_id=order_id,
        a=int(request.args.get("a", 1)),
        b=int(request.args.get("b", 2)),
        loop_id=id(asyncio.get_running_loop()),
    )


@api.cadence_route(
    "/mapped/<order_id>",
    checkout,
    response_mapper=lambda s: ({"id": s.order_id, "sum": s.total}, 201, {"X-Order": s.order_id}),
)
def mapped(order_id: str) -> OrderScore:
    g.marker = "m"
    return OrderScore(order_id=order_id, a=3, b=4)


for _rule, _cadence in [
    ("/fail", failing),
    ("/slow", slow),
    ("/slow-retried", slow_retried),
    ("/circuit", circuit),
    ("/skip", skipping),
    ("/interrupt", interrupting),
    ("/keyed", keyed),
    ("/divide", dividing),
    ("/forbidden", forbidding),
]:

    @api.cadence_route(_rule, _cadence, endpoint=_rule.strip("/"))
    def _view() -> OrderScore:
        return OrderScore(order_id=request.args.get("order", "x"))


@api.cadence_route("/meet/<group>/<name>", meeting)
def meet_view(group: str, name: str) -> MeetScore:
    return MeetScore(
        name=name, group=group, size=int(request.args["size"]), view_thread=threading.get_ident()
    )


@api.cadence_route("/none", checkout)
def returns_none() -> None:
    return None


@api.cadence_route("/shared", checkout)
async def returns_construction() -> OrderScore:
    return CONSTRUCTION


@api.cadence_route("/missing/<order_id>", checkout)
def not_found(order_id: str) -> OrderScore:
    abort(404)


def broken_mapper(score: OrderScore) -> Any:
    msg = f"mapper secret {score.order_id}"
    raise RuntimeError(msg)


@api.cadence_route("/bad-mapper/<order_id>", skipping, response_mapper=broken_mapper)
def bad_mapper(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id)


async def async_mapper(score: OrderScore) -> Response:
    await asyncio.sleep(0)
    return Response(f"{score.order_id}={score.kind}", mimetype="text/plain", headers={"X-Mapped": "yes"})


plain = CadenceBlueprint("plain", __name__, response_mapper=async_mapper)


@plain.cadence_route("/plain/<order_id>", skipping)
def plain_view(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id)


@api.cadence_route("/fail-exposed", failing, expose_errors=True)
def fail_exposed() -> OrderScore:
    return OrderScore(order_id=request.args.get("order", "x"))


exposed = CadenceBlueprint("exposed", __name__, url_prefix="/exposed", expose_errors=True)


@exposed.cadence_route("/fail", failing)
def exposed_fail() -> OrderScore:
    return OrderScore(order_id=request.args.get("order", "x"))


@exposed.cadence_route("/fail-hidden", failing, expose_errors=False)
def exposed_fail_hidden() -> OrderScore:
    return OrderScore(order_id=request.args.get("order", "x"))


# Views that answer by themselves: each would fail with a 500 if its cadence ran on what it returned.
@api.cadence_route("/validated/<order_id>", failing)
def validated(order_id: str) -> Any:
    if int(request.args["a"]) < 0:
        return {"problem": "a must not be negative"}, 422
    return OrderScore(order_id=order_id)


@api.cadence_route("/moved", failing, methods=["GET"])
async def moved() -> Any:
    await asyncio.sleep(0)
    return "moved", 303, {"Location": "/api/elsewhere"}


@api.cadence_route("/teapot", failing, methods=["GET"])
def teapot_view() -> Any:
    return Response("short and stout", status=418, mimetype="text/plain")


def add_plain_routes(app: Flask) -> None:
    """The checkout route again, without ``CadenceBlueprint.cadence_route``: ``cadence_route`` on
    the app, ``with_cadence`` under ``app.post``, ``register_cadence``, and a ``CadenceBlueprint``
    registered through ``.blueprint`` (the names kept for code written against cadence-orchestration)."""
    cadence_route(app, "/module/orders/<order_id>", checkout, endpoint="module_create_order")(create_order)

    @app.post("/with/orders/<order_id>")
    @with_cadence(checkout)
    def with_create_order(order_id: str) -> OrderScore:
        return create_order(order_id)

    register_cadence(app, "/registered/orders/<order_id>", checkout, create_order, endpoint="registered")
    other = CadenceBlueprint("other", __name__, url_prefix="/blueprint")
    other.cadence_route("/orders/<order_id>", checkout)(create_order)
    app.register_blueprint(other.blueprint)


def build_app() -> Flask:
    app = Flask(__name__)
    EXTENSION.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(plain)
    app.register_blueprint(exposed)
    add_plain_routes(app)
    return app


#: Run id and timing headers on every cadence response, a record per request dropped at teardown.
EXTENSION = CadenceExtension()

APP = build_app()

# ---------------------------------------------------------------------------- the servers


@contextmanager
def serve(kind: str, app: Any) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 with a real server; yields its base URL."""
    if kind == "werkzeug":
        with serve_werkzeug(app) as url:
            yield url
    elif kind == "waitress":
        server: Any = waitress.create_server(
            app, host="127.0.0.1", port=0, threads=WAITRESS_THREADS, connection_limit=512, channel_timeout=30
        )
        thread = threading.Thread(target=server.run, name="waitress-test", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.effective_port}"
        finally:
            # Close every socket from waitress's own loop thread; its loop ends when nothing is left.
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            thread.join(timeout=10)
            assert not thread.is_alive()
            server.task_dispatcher.shutdown()
    else:  # pragma: no cover
        raise ValueError(kind)


@pytest.fixture(scope="module", params=SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with serve(request.param, APP) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        yield c


#: 200 connections in all, spread over several clients (httpcore scans its whole pool per request).
CLIENTS = 8


@pytest.fixture
async def clients(base_url: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    per_client = 200 // CLIENTS
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    pool = [httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) for _ in range(CLIENTS)]
    try:
        yield pool
    finally:
        for c in pool:
            await c.aclose()


def _no_traceback(response: httpx.Response) -> None:
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


# ---------------------------------------------------------------------------- tests


#: Each way of serving the checkout: CadenceBlueprint.cadence_route, cadence_route, with_cadence,
#: register_cadence, and a blueprint registered through CadenceBlueprint.blueprint.
PREFIXES = ["/api", "/module", "/with", "/registered", "/blueprint"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_1000_requests_200_at_a_time_each_get_their_own_result(
    clients: list[httpx.AsyncClient], prefix: str
) -> None:
    """Every response matches its own request exactly (its URL, query, body, ``flask.g`` and
    ``flask.request`` seen from sync and async notes); the construction scores are untouched; the
    cadence's hooks see every run; every note ran on one event loop, in one thread; the run id header
    (``CadenceExtension``) is the id of the run that served that very request, and every request's
    record was dropped at teardown."""
    started, finished = hooks.started, hooks.finished
    torn_down = EXTENSION.requests_torn_down
    run_ids: set[str] = set()
    gate = asyncio.Semaphore(200)
    in_flight = 0
    peak = 0

    async def one(i: int) -> None:
        nonlocal in_flight, peak
        order_id, a, b, tags = f"order-{i}", i, (i * 7) % 13 - 5, [f"t{i}", f"u{i % 3}"]
        async with gate:
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                response = await clients[i % CLIENTS].post(
                    f"{prefix}/orders/{order_id}", params={"a": a}, json={"b": b, "tags": tags}
                )
            finally:
                in_flight -= 1
        assert response.status_code == 200, response.text
        assert response.json() == expected(order_id, a, b, tags, prefix)
        assert response.headers["x-cadence-run-id"] == hooks.run_ids[order_id]
        assert float(response.headers["x-cadence-duration"]) > 0
        run_ids.add(response.headers["x-cadence-run-id"])

    await asyncio.gather(*(one(i) for i in range(1000)))
    assert peak == 200
    assert CONSTRUCTION == CONSTRUCTION_BEFORE
    assert audit.get_score() == AUDIT_BEFORE
    assert (hooks.started - started, hooks.finished - finished) == (1000, 1000)
    assert len(places.loops) == 1, places.loops  # no event loop per request
    ((_, loop_thread),) = places.loops
    assert loop_thread not in places.view_threads  # views run in the server's threads, notes on the loop
    assert len(places.view_threads) > 1
    assert [t.name for t in threading.enumerate()].count("cadence-flask-loop") == 1
    assert len(run_ids) == 1000
    assert EXTENSION.requests_torn_down - torn_down == 1000
    assert EXTENSION.requests_open == 0


async def test_requests_run_concurrently_on_one_loop(client: httpx.AsyncClient) -> None:
    """Sixteen requests meet inside one note: each waits until all are there, which happens only if
    they run at once; each comes from its own server thread, and all share one loop in one thread."""
    group, size = uuid.uuid4().hex, 16
    responses = await asyncio.gather(
        *(client.post(f"/api/meet/{group}/{i}", params={"size": size}) for i in range(size))
    )
    bodies = [r.json() for r in responses]
    assert [r.status_code for r in responses] == [200] * size, bodies
    assert sorted(b["name"] for b in bodies) == sorted(str(i) for i in range(size))
    assert {b["met"] for b in bodies} == {size}
    assert len({b["view_thread"] for b in bodies}) == size
    assert len({b["loop_thread"] for b in bodies}) == 1
    assert len({b["loop_id"] for b in bodies}) == 1
    assert bodies[0]["loop_thread"] not in {b["view_thread"] for b in bodies}


async def test_async_view_runs_on_the_same_loop_as_the_notes(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/async-view/v-1", params={"a": 5, "b": 6})
    assert response.status_code == 200
    body = response.json()
    loop_id = body.pop("loop_id")
    want = expected("v-1", 5, 6, [])
    want.pop("loop_id")
    want["path"] = "/api/async-view/v-1"
    assert body == want
    again = (await client.get("/api/async-view/v-2", params={"a": 1})).json()
    note = (await client.post(f"/api/meet/{uuid.uuid4().hex}/alone", params={"size": 1})).json()
    assert loop_id == again["loop_id"] == note["loop_id"] != 0


async def test_failing_note_is_a_500_with_a_stable_code_and_no_traceback(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="cadence.integrations.flask"):
        response = await client.post("/api/fail", params={"order": "f-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "NOTE_ERROR"
    assert body["error"]["note"] == "explode"
    assert body["error"]["message"] == "note 'explode' failed"
    assert "secret boom" not in response.text  # the exception's own text goes to the log only
    _no_traceback(response)
    logged = [r for r in caplog.records if r.name == "cadence.integrations.flask"]
    assert len(logged) == 1
    assert "'failing' failed on POST /api/fail" in logged[0].getMessage()
    assert logged[0].exc_info is not None  # the traceback goes to the log
    assert "secret boom for f-1" in caplog.text


async def test_expose_errors_puts_the_exception_text_in_the_body(client: httpx.AsyncClient) -> None:
    """An app that opts in (blueprint-wide or per route) gets the error's own text in the message."""
    for path in ("/exposed/fail", "/api/fail-exposed"):
        response = await client.post(path, params={"order": "f-2"})
        assert response.status_code == 500
        body = response.json()["error"]
        assert (body["code"], body["note"]) == ("NOTE_ERROR", "explode")
        assert "secret boom for f-2" in body["message"]
        _no_traceback(response)
    hidden = await client.post("/exposed/fail-hidden", params={"order": "f-3"})  # a route may opt out
    assert hidden.json()["error"]["message"] == "note 'explode' failed"


async def test_a_view_returning_a_flask_tuple_or_response_is_answered_with_it(
    client: httpx.AsyncClient,
) -> None:
    """``(body, status)``, ``(body, status, headers)`` and a ``Response`` are responses, not scores."""
    invalid = await client.post("/api/validated/v-1", params={"a": -1})
    assert invalid.status_code == 422
    assert invalid.json() == {"problem": "a must not be negative"}
    moved_away = await client.get("/api/moved", follow_redirects=False)
    assert moved_away.status_code == 303
    assert moved_away.headers["location"] == "/api/elsewhere"
    assert moved_away.text == "moved"
    short = await client.get("/api/teapot")
    assert (short.status_code, short.text) == (418, "short and stout")
    ran = await client.post("/api/validated/v-2", params={"a": 1})  # a score: the cadence runs
    assert ran.json()["error"]["note"] == "explode"


async def test_timeout_is_a_504(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/slow")
    assert response.status_code == 504
    body = response.json()["error"]
    assert body["code"] == "TIMEOUT"
    assert body["note"] == "too_slow"
    _no_traceback(response)


async def test_timeout_behind_exhausted_retries_is_a_504(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/slow-retried")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "TIMEOUT"


async def test_open_circuit_is_a_503_with_retry_after(client: httpx.AsyncClient) -> None:
    get_circuit(CIRCUIT).reset()  # each server starts from a closed circuit
    tripping = await client.post("/api/circuit")
    assert tripping.status_code == 500
    assert tripping.json()["error"]["code"] == "NOTE_ERROR"
    refused = await client.post("/api/circuit")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "CIRCUIT_OPEN"
    assert refused.json()["error"]["note"] == "flaky"
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_skip_returns_the_score_as_it_stands(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/skip", params={"order": "k-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == "k-1"
    assert body["kind"] == "first"


async def test_interrupt_returns_the_score_as_it_stands(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/interrupt")
    assert response.status_code == 200
    assert response.json()["total"] == 42
    assert response.json()["kind"] == ""


async def test_custom_error_handler_gets_the_wrapped_error_and_the_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/keyed", params={"order": "key-9"})
    assert response.status_code == 418
    assert response.json() == {"teapot": "'key-9'", "path": "/api/keyed"}


async def test_async_error_handler_may_return_a_response(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/divide")
    assert response.status_code == 409
    assert response.text == "no division: ZeroDivisionError"


async def test_a_failing_error_handler_is_a_500_that_leaks_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/forbidden")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "internal server error", "note": None}
    }


async def test_route_response_mapper_may_return_a_flask_tuple(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/mapped/m-1", params={"a": 3})
    assert response.status_code == 201
    assert response.json() == {"id": "m-1", "sum": 7}
    assert response.headers["x-order"] == "m-1"


async def test_a_failing_mapper_is_a_500_that_leaks_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/bad-mapper/b-1")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "internal server error", "note": None}
    }


async def test_blueprint_mapper_may_be_async_and_return_a_response(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/plain/p-1")
    assert response.status_code == 200
    assert response.text == "p-1=first"
    assert response.headers["x-mapped"] == "yes"


async def test_view_must_return_a_fresh_score(client: httpx.AsyncClient) -> None:
    """A view returning nothing or the construction score fails instead of running on it."""
    for path in ("/api/none", "/api/shared"):
        response = await client.post(path)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INVALID_SCORE"
    assert CONSTRUCTION == CONSTRUCTION_BEFORE


async def test_errors_of_the_view_itself_stay_flasks(client: httpx.AsyncClient) -> None:
    """``abort(404)`` in a view is Flask's 404; an unknown method is Flask's 405."""
    assert (await client.post("/api/missing/x")).status_code == 404
    assert (await client.get("/api/orders/x")).status_code == 405


def test_score_to_jsonable_uses_the_apps_encoder_for_odd_values() -> None:
    @dataclass
    class Odd(Score):
        when: Any = None
        token: Any = None
        blob: object = field(default_factory=object)

    import datetime

    stamp = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    token = uuid.UUID(int=5)
    with Flask(__name__).app_context():
        out = score_to_jsonable(Odd(when=stamp, token=token))
    assert out["when"] == "Mon, 06 May 2024 07:08:09 GMT"  # Flask's own date format
    assert out["token"] == str(token)
    assert isinstance(out["blob"], str)
    without_app = score_to_jsonable(Odd(when=stamp))
    assert without_app["when"] == repr(stamp)
    json.dumps(out)


def test_the_loop_starts_again_in_a_forked_child() -> None:
    """A pre-forking server: the parent served a request (its loop thread does not survive a fork);
    the child gets a loop of its own instead of waiting forever on the parent's."""
    code = textwrap.dedent(
        """
        import asyncio, json, os, sys, threading, urllib.request
        from dataclasses import dataclass
        from flask import Flask
        from werkzeug.serving import WSGIRequestHandler, make_server
        from cadence import Cadence, Score
        from cadence.integrations.flask import CadenceBlueprint

        @dataclass
        class Probe(Score):
            pid: int = 0
            loop_id: int = 0

        async def probe(score):
            await asyncio.sleep(0)
            score.pid, score.loop_id = os.getpid(), id(asyncio.get_running_loop())

        bp = CadenceBlueprint("p", __name__)

        @bp.cadence_route("/probe", Cadence("probe", Probe()).then("probe", probe))
        def view():
            return Probe()

        app = Flask(__name__)
        app.register_blueprint(bp)

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args):
                pass

        def serve_once():
            server = make_server("127.0.0.1", 0, app, request_handler=Quiet)
            thread = threading.Thread(target=server.handle_request)
            thread.start()
            url = f"http://127.0.0.1:{server.server_port}/probe"
            body = urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=20).read()
            thread.join()
            server.server_close()
            return json.loads(body)

        parent = serve_once()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            os.write(write, json.dumps({"child": serve_once(), "pid": os.getpid()}).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child = json.loads(pipe.read())
        os.waitpid(pid, 0)
        print(json.dumps({"parent": parent, "parent_pid": os.getpid(), **child}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=50
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["parent"]["pid"] == result["parent_pid"]
    assert result["child"]["pid"] == result["pid"] != result["parent_pid"]
    assert result["child"]["loop_id"] != result["parent"]["loop_id"]


def _probe(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_import_cadence_does_not_import_flask() -> None:
    out = _probe(
        "import sys, cadence, cadence.integrations\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'werkzeug', 'waitress'}))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_missing_flask_names_the_extra() -> None:
    out = _probe(
        "import sys\nsys.modules['flask'] = None\n"
        "try:\n    import cadence.integrations.flask\n"
        "except ImportError as e:\n    print(e)\n"
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'cadence-studio[flask]'" in out.stdout
