"""``/metrics`` of ``CadenceRouter`` (uvicorn) and ``CadenceBlueprint`` (Werkzeug, waitress) on real
servers: a cadence with a ``PrometheusReporter`` on its own registry, requests, then the exposition
parsed back with prometheus_client's own parser and checked value by value."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from cadence import Cadence, Score
from cadence.integrations.fastapi import CadenceRouter
from cadence.integrations.flask import CadenceBlueprint
from cadence.reporters import PrometheusReporter
from tests.integrations.servers import serve_uvicorn
from tests.integrations.test_flask import serve

# ---------------------------------------------------------------------------- the cadence


@dataclass
class ShopScore(Score):
    n: int = 0
    fail: bool = False
    price: int = 0
    stock: int = 0
    signature: str = ""


@dataclass
class StampScore(Score):
    stamp: str = ""


async def load(score: ShopScore) -> None:
    await asyncio.sleep(0)
    score.n += 1


def price(score: ShopScore) -> None:
    score.price = score.n * 2


async def stock(score: ShopScore) -> None:
    score.stock = score.n * 3


def must_fail(score: ShopScore) -> bool:
    return score.fail


def boom(score: ShopScore) -> None:
    msg = "out of stock"
    raise ValueError(msg)


async def sign(score: StampScore) -> None:
    score.stamp = "signed"


def merge_stamp(parent: ShopScore, child: StampScore) -> None:
    parent.signature = child.stamp


@dataclass
class Setup:
    """One fresh registry, reporter and pair of cadences per server under test."""

    registry: CollectorRegistry
    shop: Cadence[ShopScore]
    held: Cadence[ShopScore]
    gate: threading.Event


def make_setup() -> Setup:
    registry = CollectorRegistry()
    reporter = PrometheusReporter("shop", registry)
    gate = threading.Event()

    async def hold(score: ShopScore) -> None:
        await asyncio.to_thread(gate.wait, 20)

    stamp = Cadence("stamp", StampScore()).then("sign", sign)
    shop = (
        Cadence("shop", ShopScore())
        .with_hooks(reporter)
        .then("load", load)
        .sync("fan", [price, stock])
        .split("check", must_fail, [boom])
        .child("stamp", stamp, merge_stamp)
    )
    held = Cadence("held", ShopScore()).with_hooks(reporter).then("hold", hold)
    return Setup(registry, shop, held, gate)


# ---------------------------------------------------------------------------- the apps and servers


def fastapi_app(setup: Setup) -> FastAPI:
    router = CadenceRouter()

    @router.cadence("/shop/{n}", setup.shop)
    async def shop(n: int, fail: bool = False) -> ShopScore:
        return ShopScore(n=n, fail=fail)

    @router.cadence("/hold", setup.held)
    def hold() -> ShopScore:
        return ShopScore()

    router.metrics_route("/metrics", registry=setup.registry)
    router.metrics_route("/default-metrics")
    app = FastAPI()
    app.include_router(router)
    return app


def flask_app(setup: Setup) -> Flask:
    bp = CadenceBlueprint("shop", __name__)

    @bp.cadence_route("/shop/<int:n>", setup.shop)
    def shop(n: int) -> ShopScore:
        return ShopScore(n=n, fail=request.args.get("fail") == "true")

    @bp.cadence_route("/hold", setup.held)
    async def hold() -> ShopScore:
        return ShopScore()

    bp.metrics_route("/metrics", registry=setup.registry)
    bp.metrics_route("/default-metrics", endpoint="default_metrics")
    app = Flask(__name__)
    app.register_blueprint(bp)
    return app


SERVERS: dict[str, Callable[[Setup], AbstractContextManager[str]]] = {
    "fastapi-uvicorn": lambda setup: serve_uvicorn(fastapi_app(setup)),
    "flask-werkzeug": lambda setup: serve("werkzeug", flask_app(setup)),
    "flask-waitress": lambda setup: serve("waitress", flask_app(setup)),
}


@pytest.fixture(params=list(SERVERS))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Setup, str]]:
    setup = make_setup()
    with SERVERS[request.param](setup) as url:
        yield setup, url
    setup.gate.set()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, path: str = "/metrics") -> tuple[Samples, set[str]]:
    """Every sample of the exposition by (name, labels), and the names of its families."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    families = list(text_string_to_metric_families(response.text))
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in families
        for s in family.samples
        if not s.name.endswith("_created")
    }
    return samples, {family.name for family in families}


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


# ---------------------------------------------------------------------------- tests

N = 25


async def test_metrics_count_the_runs_notes_and_errors_exactly(served: tuple[Setup, str]) -> None:
    _, url = served
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        before, names = await scrape(client)
        assert value(before, "shop_cadence_runs_total", cadence="shop", status="done") is None
        assert {"shop_cadence_runs", "shop_notes", "shop_errors", "shop_in_flight"} <= names

        responses = await asyncio.gather(*(client.post(f"/shop/{i}") for i in range(N)))
        for i, response in enumerate(responses):
            assert response.status_code == 200, response.text
            assert response.json() == {
                "n": i + 1,
                "fail": False,
                "price": (i + 1) * 2,
                "stock": (i + 1) * 3,
                "signature": "signed",
            }
        failed = await client.post("/shop/7", params={"fail": "true"})
        assert failed.status_code == 500
        assert failed.json()["error"]["code"] == "NOTE_ERROR"
        assert failed.json()["error"]["note"] == "boom"

        samples, _ = await scrape(client)

    def runs(cadence: str, status: str) -> float | None:
        return value(samples, "shop_cadence_runs_total", cadence=cadence, status=status)

    def notes(cadence: str, note: str, status: str) -> float | None:
        return value(samples, "shop_notes_total", cadence=cadence, note=note, status=status)

    assert runs("shop", "done") == N
    assert runs("shop", "failed") == 1
    assert runs("stamp", "done") == N  # the child runs only when the parent gets that far
    assert runs("stamp", "failed") is None
    for note in ("load", "price", "stock"):
        assert notes("shop", note, "done") == N + 1
        assert value(samples, "shop_note_duration_seconds_count", cadence="shop", note=note) == N + 1
    assert notes("shop", "boom", "failed") == 1
    assert notes("shop", "boom", "done") is None
    assert notes("stamp", "sign", "done") == N
    assert value(samples, "shop_errors_total", cadence="shop", note="boom", error_type="ValueError") == 1
    assert value(samples, "shop_cadence_duration_seconds_count", cadence="shop") == N + 1
    assert value(samples, "shop_in_flight", cadence="shop") == 0
    assert all(name != "shop_retries_total" for name, _ in samples)  # nothing was retried


async def test_metrics_are_served_while_a_run_is_in_flight(served: tuple[Setup, str]) -> None:
    setup, url = served
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        holding = asyncio.ensure_future(client.post("/hold"))
        deadline = time.monotonic() + 15
        try:
            while True:  # until the run has started: the scrape itself must not wait for it
                samples, _ = await scrape(client)
                if value(samples, "shop_in_flight", cadence="held") == 1:
                    break
                assert not holding.done(), holding.result().text
                assert time.monotonic() < deadline, "the held run never showed as in flight"
                await asyncio.sleep(0.01)
        finally:
            setup.gate.set()
        assert (await holding).status_code == 200
        samples, _ = await scrape(client)
    assert value(samples, "shop_in_flight", cadence="held") == 0
    assert value(samples, "shop_cadence_runs_total", cadence="held", status="done") == 1


async def test_default_registry_is_the_global_one(served: tuple[Setup, str]) -> None:
    _, url = served
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        samples, names = await scrape(client, "/default-metrics")
    assert "python_info" in names  # registered in prometheus_client.REGISTRY by the library itself
    assert "shop_cadence_runs" not in names  # the test's registry is not the global one
    assert any(name == "python_info" for name, _ in samples)


@pytest.mark.parametrize(
    "code",
    [
        "from cadence.integrations.fastapi import CadenceRouter\nCadenceRouter().metrics_route()",
        "from cadence.integrations.flask import CadenceBlueprint\nCadenceBlueprint('b', 'b').metrics_route()",
    ],
    ids=["fastapi", "flask"],
)
def test_missing_prometheus_client_names_the_extra(code: str) -> None:
    probe = (
        "import sys\nsys.modules['prometheus_client'] = None\n"
        f"try:\n    exec({code!r})\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "pip install 'cadence-studio[prometheus]'" in out.stdout
