"""The FastAPI names of cadence-orchestration (``with_cadence``, ``cadence_endpoint``,
``CadenceDependency``, ``CadenceMiddleware``) on a real uvicorn server, driven by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from cadence import Cadence, circuit_breaker, note, timeout
from cadence.integrations.fastapi import (
    CadenceDependency,
    CadenceMiddleware,
    cadence_endpoint,
    with_cadence,
)
from tests.compat.tally import Observed, TallyScore, count, leak
from tests.integrations.servers import serve_uvicorn


@timeout(0.01)
@note
async def stall(score: TallyScore) -> None:
    import asyncio

    await asyncio.sleep(5)


@circuit_breaker(failure_threshold=1, recovery_timeout=60, name="compat-fastapi-flaky")
@note
def flaky(score: TallyScore) -> None:
    raise ConnectionError("down")


tally = Cadence("tally", TallyScore(seen=["base"])).with_hooks(Observed()).then("count", count)
leaky = Cadence("leaky", TallyScore()).then("leak", leak)
stalling = Cadence("stalling", TallyScore()).then("stall", stall)
tripping = Cadence("tripping", TallyScore()).then("flaky", flaky)


def named(name: str) -> TallyScore:
    return TallyScore(name=name)


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CadenceMiddleware)

    @app.get("/plain")
    def plain() -> dict[str, str]:
        return {"ran": "nothing"}

    app.add_api_route("/copy", cadence_endpoint(tally), methods=["POST"])

    @app.post("/leak/{name}")
    @with_cadence(leaky)
    def leak_view(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.post("/leak-exposed/{name}")
    @with_cadence(leaky, expose_errors=True)
    def leak_exposed(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.post("/mapped/{name}")
    @with_cadence(tally, response_mapper=lambda s: {"n": s.count, "who": s.name})
    async def mapped(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.get("/dep/{name}")
    async def dep(score: Annotated[TallyScore, Depends(CadenceDependency(tally, named))]) -> Any:
        return {"name": score.name, "count": score.count, "run_id": score.run_id}

    @app.get("/dep-leak/{name}")
    async def dep_leak(score: Annotated[TallyScore, Depends(CadenceDependency(leaky, named))]) -> Any:
        return {"unreachable": True}

    @app.get("/dep-stall/{name}")
    async def dep_stall(score: Annotated[TallyScore, Depends(CadenceDependency(stalling, named))]) -> Any:
        return {"unreachable": True}

    @app.get("/dep-circuit/{name}")
    async def dep_circuit(score: Annotated[TallyScore, Depends(CadenceDependency(tripping, named))]) -> Any:
        return {"unreachable": True}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_uvicorn(build_app(), name="uvicorn-compat") as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        yield c


async def test_middleware_headers_name_the_run_that_served_the_request(client: httpx.AsyncClient) -> None:
    """The run id header is the id the notes saw; the duration headers are there; a request that
    ran no cadence gets none of them."""
    response = await client.get("/dep/ada")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "ada"
    assert body["count"] == 1
    assert response.headers["x-cadence-run-id"] == body["run_id"]
    assert body["run_id"].startswith("req-")
    assert float(response.headers["x-cadence-duration"]) >= 0
    assert response.headers["server-timing"].startswith("cadence;dur=")
    plain = await client.get("/plain")
    assert plain.status_code == 200
    assert "x-cadence-run-id" not in plain.headers
    assert "server-timing" not in plain.headers


async def test_cadence_endpoint_without_a_view_runs_a_fresh_copy_each_time(client: httpx.AsyncClient) -> None:
    """No view: each request runs on its own deep copy of the construction score, which stays as it was."""
    first = (await client.post("/copy")).json()
    second = (await client.post("/copy")).json()
    assert first["count"] == second["count"] == 1
    assert first["seen"] == second["seen"] == ["base", "construction"]
    assert first["run_id"] != second["run_id"]
    assert tally.get_score() == TallyScore(seen=["base"])


async def test_with_cadence_maps_errors_like_the_router(client: httpx.AsyncClient) -> None:
    """A failed note: 500 NOTE_ERROR naming the note, and the exception text only with expose_errors."""
    hidden = await client.post("/leak/bob")
    assert hidden.status_code == 500
    assert hidden.json() == {"error": {"code": "NOTE_ERROR", "message": "note 'leak' failed", "note": "leak"}}
    assert "hunter2" not in hidden.text
    shown = await client.post("/leak-exposed/bob")
    assert shown.status_code == 500
    assert "hunter2" in shown.json()["error"]["message"]


async def test_with_cadence_response_mapper(client: httpx.AsyncClient) -> None:
    response = await client.post("/mapped/cy")
    assert response.json() == {"n": 1, "who": "cy"}


async def test_dependency_failures_keep_status_code_and_hide_the_text(client: httpx.AsyncClient) -> None:
    """A dependency can't answer a body of its own: FastAPI answers ``{"detail": {...}}`` with the
    same status, code and note as the router would, and headers such as ``Retry-After``."""
    leaked = await client.get("/dep-leak/dan")
    assert leaked.status_code == 500
    detail = {"code": "NOTE_ERROR", "message": "note 'leak' failed", "note": "leak"}
    assert leaked.json() == {"detail": detail}
    stalled = await client.get("/dep-stall/eve")
    assert stalled.status_code == 504
    assert stalled.json()["detail"]["code"] == "TIMEOUT"
    assert (await client.get("/dep-circuit/fay")).status_code == 500  # the failure that opens it
    opened = await client.get("/dep-circuit/fay")
    assert opened.status_code == 503
    assert opened.json()["detail"]["code"] == "CIRCUIT_OPEN"
    assert int(opened.headers["retry-after"]) > 0
