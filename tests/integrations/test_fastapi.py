"""``CadenceRouter`` served by a real uvicorn server on 127.0.0.1, driven by a real httpx client."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

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
from cadence.integrations.fastapi import (
    CadenceDependency,
    CadenceMiddleware,
    CadenceRouter,
    cadence_endpoint,
    score_to_jsonable,
    with_cadence,
)
from tests.integrations.servers import serve_uvicorn

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
    seen: Atomic[int] = field(default_factory=lambda: Atomic(0))


@dataclass
class AuditScore(Score):
    order_id: str = "audit-construction"
    total: int = 0
    signature: str = ""


async def add(score: OrderScore) -> None:
    await asyncio.sleep(0)
    score.total = score.a + score.b
    score.seen.update(lambda n: n + 1)


def multiply(score: OrderScore) -> None:
    score.product = score.a * score.b
    score.seen.update(lambda n: n + 1)


async def tag(score: OrderScore) -> None:
    await asyncio.sleep(0)
    score.tags.append(f"{score.order_id}:tagged")


def is_even(score: OrderScore) -> bool:
    return (score.total + score.product) % 2 == 0


def even(score: OrderScore) -> None:
    score.kind = f"even:{score.order_id}"


async def odd(score: OrderScore) -> None:
    await asyncio.sleep(0)
    score.kind = f"odd:{score.order_id}"


async def sign(score: AuditScore) -> None:
    await asyncio.sleep(0)
    score.signature = f"{score.order_id}#{score.total * 3}"


def merge_audit(parent: OrderScore, child: AuditScore) -> None:
    parent.signature = child.signature


audit = Cadence("audit", AuditScore()).then("sign", sign)


class CountingHooks(CadenceHooks):
    def __init__(self) -> None:
        self.finished = 0
        self.run_ids: dict[str, str | None] = {}  # order id -> the id of the run that served it
        self.lock = threading.Lock()

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        if name == "checkout":  # children report to the parent's hooks too
            with self.lock:
                self.finished += 1
                self.run_ids[score.order_id] = current_run_id()


hooks = CountingHooks()
CONSTRUCTION = OrderScore(order_id="construction", a=-1, b=-2, tags=["base"])
checkout = (
    Cadence("checkout", CONSTRUCTION)
    .with_hooks(hooks)
    .sync("compute", [add, multiply, tag], merge_strategy=MergeStrategy.smart_merge)
    .split("parity", is_even, even, [odd])
    .child(
        "audit",
        audit,
        merge_audit,
        score=lambda s: AuditScore(order_id=s.order_id, total=s.total + s.product),
    )
)
CONSTRUCTION_BEFORE = copy.deepcopy(CONSTRUCTION)
AUDIT_BEFORE = copy.deepcopy(audit.get_score())


def expected(order_id: str, a: int, b: int, tags: list[str]) -> dict[str, Any]:
    total, product = a + b, a * b
    return {
        "order_id": order_id,
        "a": a,
        "b": b,
        "tags": [*tags, f"{order_id}:tagged"],
        "total": total,
        "product": product,
        "kind": f"{'even' if (total + product) % 2 == 0 else 'odd'}:{order_id}",
        "signature": f"{order_id}#{(total + product) * 3}",
        "seen": 2,
    }


class Payload(BaseModel):
    b: int
    tags: list[str] = []


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


CIRCUIT = f"fastapi-test-circuit-{time.monotonic_ns()}"


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


failing = Cadence("failing", OrderScore()).then("first", first).then("explode", explode)
slow = Cadence("slow", OrderScore()).then("too_slow", too_slow)
slow_retried = Cadence("slow_retried", OrderScore()).then("slow_twice", slow_twice)
circuit = Cadence("circuit", OrderScore()).then("flaky", flaky)
skipping = Cadence("skipping", OrderScore()).then("first", first).then("skip", skip).then("never", never)
interrupting = (
    Cadence("interrupting", OrderScore()).then("stop", stop_here, can_interrupt=True).then("never", never)
)
keyed = Cadence("keyed", OrderScore()).then("missing_key", missing_key)


# ---------------------------------------------------------------------------- the app


def teapot(request: Request | None, exc: BaseException) -> Response:
    assert request is not None
    return JSONResponse({"teapot": str(exc), "path": request.url.path}, status_code=418)


router = CadenceRouter(prefix="/api", error_handlers={KeyError: teapot})


@router.cadence("/orders/{order_id}", checkout)
async def create_order(order_id: str, a: int, payload: Payload) -> OrderScore:
    return OrderScore(order_id=order_id, a=a, b=payload.b, tags=list(payload.tags))


@router.cadence("/sync-view/{order_id}", checkout, methods=["GET"])
def sync_view(order_id: str, a: int = 1, b: int = 2) -> OrderScore:
    return OrderScore(order_id=order_id, a=a, b=b)


@router.cadence(
    "/mapped/{order_id}",
    checkout,
    response_mapper=lambda s: {"id": s.order_id, "sum": s.total},
    status_code=201,
)
async def mapped(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id, a=3, b=4)


for _path, _cadence in [
    ("/fail", failing),
    ("/slow", slow),
    ("/slow-retried", slow_retried),
    ("/circuit", circuit),
    ("/skip", skipping),
    ("/interrupt", interrupting),
    ("/keyed", keyed),
]:

    @router.cadence(_path, _cadence)
    async def _view(order: str = "x") -> OrderScore:
        return OrderScore(order_id=order)


@router.cadence("/fail-exposed", failing, expose_errors=True)
async def fail_exposed(order: str = "x") -> OrderScore:
    return OrderScore(order_id=order)


exposed_router = CadenceRouter(prefix="/exposed", expose_errors=True)


@exposed_router.cadence("/fail", failing)
async def exposed_fail(order: str = "x") -> OrderScore:
    return OrderScore(order_id=order)


@exposed_router.cadence("/fail-hidden", failing, expose_errors=False)
async def exposed_fail_hidden(order: str = "x") -> OrderScore:
    return OrderScore(order_id=order)


@router.cadence("/none", checkout)
def returns_none() -> None:
    return None


@router.cadence("/shared", checkout)
def returns_construction() -> OrderScore:
    return CONSTRUCTION


def broken_mapper(score: OrderScore) -> Any:
    msg = f"mapper secret {score.order_id}"
    raise RuntimeError(msg)


@router.cadence("/bad-mapper/{order_id}", checkout, response_mapper=broken_mapper)
async def bad_mapper(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id)


async def async_mapper(score: OrderScore) -> Response:
    await asyncio.sleep(0)
    return Response(f"{score.order_id}={score.total}", media_type="text/plain", headers={"X-Mapped": "yes"})


mapped_router = CadenceRouter(response_mapper=async_mapper)


@mapped_router.cadence("/plain/{order_id}", checkout)
async def plain(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id, a=1, b=1)


gate_runs = Atomic(0)


def count_gate_run(score: OrderScore) -> None:
    gate_runs.update(lambda n: n + 1)
    score.kind = "ran"


gated = Cadence("gated", OrderScore()).then("count", count_gate_run)


@router.cadence("/gate/{order_id}", gated)
async def gate(order_id: str, allow: bool = False) -> OrderScore | Response:
    if not allow:
        return JSONResponse({"refused": order_id}, status_code=422, headers={"X-Gate": "closed"})
    return OrderScore(order_id=order_id)


@router.cadence("/gate-sync/{order_id}", gated)
def gate_sync(order_id: str) -> OrderScore | Response:
    return Response(f"see /orders/{order_id}", status_code=303, headers={"Location": f"/orders/{order_id}"})


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CadenceMiddleware)
    app.include_router(router)
    add_plain_routes(app)
    app.include_router(mapped_router)
    app.include_router(exposed_router)
    return app


def add_plain_routes(app: FastAPI) -> None:
    """The checkout route again, without a router: ``with_cadence``, ``cadence_endpoint`` and
    ``CadenceDependency`` (the names kept for code written against cadence-orchestration)."""

    @app.post("/with/orders/{order_id}")
    @with_cadence(checkout)
    async def with_view(order_id: str, a: int, payload: Payload) -> OrderScore:
        return OrderScore(order_id=order_id, a=a, b=payload.b, tags=list(payload.tags))

    endpoint = cadence_endpoint(checkout, create_order)
    app.add_api_route("/endpoint/orders/{order_id}", endpoint, methods=["POST"])

    @app.post("/depends/orders/{order_id}")
    def depends_view(score: Annotated[OrderScore, Depends(CadenceDependency(checkout, create_order))]) -> Any:
        return score_to_jsonable(score)


# ---------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_uvicorn(build_app()) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        yield c


#: 200 connections in all, spread over several clients: httpcore scans its whole pool on every
#: request, so one pool of 200 connections costs more than the server does.
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


# ---------------------------------------------------------------------------- tests


#: Each way of serving the checkout: CadenceRouter, with_cadence, cadence_endpoint, CadenceDependency.
PREFIXES = ["/api", "/with", "/endpoint", "/depends"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_1000_requests_200_at_a_time_each_get_their_own_result(
    clients: list[httpx.AsyncClient], prefix: str
) -> None:
    """Every response matches its own request exactly; the construction scores are untouched; the
    run id header (``CadenceMiddleware``) is the id of the run that served that very request."""
    before = hooks.finished
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
        assert response.json() == expected(order_id, a, b, tags)
        assert response.headers["x-cadence-run-id"] == hooks.run_ids[order_id]
        assert float(response.headers["x-cadence-duration"]) > 0
        run_ids.add(response.headers["x-cadence-run-id"])

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(1000)))
    assert time.perf_counter() - started < 15
    assert peak == 200
    assert CONSTRUCTION == CONSTRUCTION_BEFORE
    assert audit.get_score() == AUDIT_BEFORE
    assert hooks.finished - before == 1000  # the cadence's hooks ran once per request
    assert len(run_ids) == 1000


async def test_sync_view_with_query_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/sync-view/s-1", params={"a": 5, "b": 6})
    assert response.status_code == 200
    assert response.json() == expected("s-1", 5, 6, [])


async def test_validation_errors_stay_fastapis(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/orders/o", params={"a": "not-a-number"}, json={"b": 1})
    assert response.status_code == 422


async def test_failing_note_is_a_500_with_a_stable_code_and_no_traceback(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/fail", params={"order": "f-1"})
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "NOTE_ERROR"
    assert body["error"]["note"] == "explode"
    assert body["error"]["message"] == "note 'explode' failed"
    assert "secret boom" not in response.text  # the exception's own text stays in the log
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


async def test_expose_errors_puts_the_exception_text_in_the_body(client: httpx.AsyncClient) -> None:
    """An app that opts in (router-wide or per route) gets the error's own text in the message."""
    for path in ("/exposed/fail", "/api/fail-exposed"):
        response = await client.post(path, params={"order": "f-2"})
        assert response.status_code == 500
        body = response.json()["error"]
        assert body["code"] == "NOTE_ERROR"
        assert body["note"] == "explode"
        assert "secret boom for f-2" in body["message"]
        assert "Traceback" not in response.text
    hidden = await client.post("/exposed/fail-hidden", params={"order": "f-3"})  # a route may opt out
    assert hidden.json()["error"]["message"] == "note 'explode' failed"


async def test_default_bodies_name_the_note_and_the_code_only(client: httpx.AsyncClient) -> None:
    """Timeouts, open circuits and exhausted retries say what happened to which note, no more."""
    slow = (await client.post("/api/slow")).json()["error"]
    assert slow == {"code": "TIMEOUT", "message": "note 'too_slow' timed out", "note": "too_slow"}
    retried = (await client.post("/api/slow-retried")).json()["error"]
    assert retried == {"code": "TIMEOUT", "message": "note 'slow_twice' timed out", "note": "slow_twice"}


async def test_timeout_is_a_504(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.post("/api/slow")
    assert time.perf_counter() - started < 2
    assert response.status_code == 504
    body = response.json()["error"]
    assert body["code"] == "TIMEOUT"
    assert body["note"] == "too_slow"
    assert "Traceback" not in response.text


async def test_timeout_behind_exhausted_retries_is_a_504(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/slow-retried")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "TIMEOUT"


async def test_open_circuit_is_a_503(client: httpx.AsyncClient) -> None:
    tripping = await client.post("/api/circuit")
    assert tripping.status_code == 500
    assert tripping.json()["error"]["code"] == "NOTE_ERROR"
    refused = await client.post("/api/circuit")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "CIRCUIT_OPEN"
    assert refused.json()["error"]["note"] == "flaky"
    assert int(refused.headers["retry-after"]) > 0


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


async def test_custom_error_handler_gets_the_request_and_the_wrapped_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/keyed", params={"order": "key-9"})
    assert response.status_code == 418
    assert response.json() == {"teapot": "'key-9'", "path": "/api/keyed"}


async def test_route_response_mapper_and_route_kwargs(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/mapped/m-1")
    assert response.status_code == 201
    assert response.json() == {"id": "m-1", "sum": 7}


async def test_a_failing_mapper_is_a_500_that_leaks_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/bad-mapper/b-1")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "internal server error", "note": None}
    }


async def test_router_response_mapper_may_return_a_response(client: httpx.AsyncClient) -> None:
    response = await client.post("/plain/p-1")
    assert response.status_code == 200
    assert response.text == "p-1=2"
    assert response.headers["x-mapped"] == "yes"


def test_score_to_jsonable_handles_atomics_cycles_and_odd_values() -> None:
    from cadence import AtomicDict, AtomicList

    @dataclass
    class Odd(Score):
        counter: Atomic[int] = field(default_factory=lambda: Atomic(3))
        items: AtomicList[int] = field(default_factory=lambda: AtomicList([1, 2]))
        table: AtomicDict[str, int] = field(default_factory=lambda: AtomicDict({"k": 1}))
        nested: dict[Any, Any] = field(default_factory=dict)
        things: set[int] = field(default_factory=lambda: {5})
        nan: float = float("nan")
        blob: object = field(default_factory=object)

    odd_score = Odd()
    odd_score.nested = {1: odd_score.nested, "self": odd_score}
    out = score_to_jsonable(odd_score)
    assert out["counter"] == 3
    assert out["items"] == [1, 2]
    assert out["table"] == {"k": 1}
    assert out["things"] == [5]
    assert out["nan"] is None
    assert isinstance(out["nested"]["self"], str)  # the cycle is cut
    assert isinstance(out["blob"], str)
    json.dumps(out)


async def test_view_must_return_a_fresh_score(client: httpx.AsyncClient) -> None:
    """A view returning nothing or the construction score fails instead of running on it."""
    for path in ("/api/none", "/api/shared"):
        response = await client.post(path)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INVALID_SCORE"
    assert CONSTRUCTION == CONSTRUCTION_BEFORE


async def test_a_view_returning_a_response_answers_with_it_and_runs_no_cadence(
    client: httpx.AsyncClient,
) -> None:
    """A ``Response`` from the view (async or sync) is sent as is; only a score runs the cadence."""
    before = gate_runs.get()
    refused = await client.post("/api/gate/o-1")
    assert refused.status_code == 422
    assert refused.json() == {"refused": "o-1"}
    assert refused.headers["X-Gate"] == "closed"
    redirected = await client.post("/api/gate-sync/o-2", follow_redirects=False)
    assert redirected.status_code == 303
    assert redirected.headers["Location"] == "/orders/o-2"
    assert redirected.text == "see /orders/o-2"
    assert gate_runs.get() == before
    allowed = await client.post("/api/gate/o-3", params={"allow": "true"})
    assert allowed.status_code == 200
    assert allowed.json()["kind"] == "ran"
    assert gate_runs.get() == before + 1


def _probe(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_import_cadence_does_not_import_fastapi() -> None:
    out = _probe(
        "import sys, cadence, cadence.integrations\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'starlette', 'uvicorn'}))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_missing_fastapi_names_the_extra() -> None:
    out = _probe(
        "import sys\nsys.modules['fastapi'] = None\n"
        "try:\n    import cadence.integrations.fastapi\n"
        "except ImportError as e:\n    print(e)\n"
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'cadence-studio[fastapi]'" in out.stdout
