"""A plain ``def`` note in ``.then`` never stalls a real uvicorn server's event loop (issue 10).

The bounds below (under 1 s for 20 concurrent 0.1 s notes, under 100 ms for an unrelated GET) are the
issue's own evidence for closing it; they are generous for what they measure (about 0.1 s and a few
milliseconds when the notes run in the shared pool, 2 s and seconds when they block the loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from cadence import Cadence, Score
from cadence.integrations.fastapi import CadenceRouter
from tests.integrations.servers import serve_uvicorn

REQUESTS = 20


@dataclass
class Nap(Score):
    order: int = 0
    thread: str = ""


def nap(score: Nap) -> None:
    """The issue's note: a plain ``def`` that blocks for 0.1 s (a sync HTTP or SQL call)."""
    score.thread = threading.current_thread().name
    time.sleep(0.1)


class Holder:
    """A plain ``def`` note that blocks until the test lets it go, counting the notes asleep in it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asleep = 0
        self.release = threading.Event()

    def __call__(self, score: Nap) -> None:
        with self.lock:
            self.asleep += 1
        self.release.wait(timeout=2.0)  # blocks like time.sleep; on the loop thread, it stalls the server
        with self.lock:
            self.asleep -= 1


holder = Holder()
router = CadenceRouter()


@router.cadence("/nap/{order}", Cadence("napping", Nap()).then("nap", nap))
async def start_nap(order: int) -> Nap:
    return Nap(order=order)


@router.cadence("/hold/{order}", Cadence("holding", Nap()).then("hold", holder))
async def start_hold(order: int) -> Nap:
    return Nap(order=order)


def build_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_uvicorn(build_app(), "uvicorn-sync-notes") as url:
        try:
            yield url
        finally:
            holder.release.set()  # notes still held would keep uvicorn from shutting down


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=REQUESTS + 5, max_keepalive_connections=REQUESTS + 5)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as c:
        await c.get("/ping")  # the server and the client are warm before anything is timed
        yield c


async def test_twenty_concurrent_requests_to_a_0_1_s_def_note_finish_well_under_1_s(
    client: httpx.AsyncClient,
) -> None:
    """20 requests whose `.then` note sleeps 0.1 s run side by side: not one after another (2 s)."""
    started = time.perf_counter()
    responses = await asyncio.gather(*(client.post(f"/nap/{i}") for i in range(REQUESTS)))
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in responses] == [200] * REQUESTS
    assert elapsed < 1.0, f"20 concurrent 0.1 s notes took {elapsed:.2f} s"
    assert sorted(r.json()["order"] for r in responses) == list(range(REQUESTS))
    assert all(r.json()["thread"].startswith("cadence-note") for r in responses)  # the shared pool


async def test_an_unrelated_get_answers_while_twenty_def_notes_sleep(client: httpx.AsyncClient) -> None:
    """While 20 requests are asleep in their plain `def` note, a GET on the same server answers at once."""
    holder.release.clear()
    requests = [asyncio.ensure_future(client.post(f"/hold/{i}")) for i in range(REQUESTS)]
    try:
        deadline = time.monotonic() + 5
        while holder.asleep < REQUESTS and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        asleep = holder.asleep
        started = time.perf_counter()
        pong = await client.get("/ping")
        waited = time.perf_counter() - started
        still_asleep = holder.asleep
    finally:
        holder.release.set()
        responses = await asyncio.gather(*requests)
    assert pong.json() == {"pong": "yes"}
    assert waited < 0.1, f"the GET waited {waited * 1000:.0f} ms behind sleeping notes"
    assert asleep == REQUESTS, f"only {asleep} of {REQUESTS} notes were asleep at once"
    assert still_asleep == REQUESTS  # the GET was answered while every note still slept
    assert [r.status_code for r in responses] == [200] * REQUESTS
