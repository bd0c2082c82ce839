"""`CadenceRouter(checkpoint=...)` / `CadenceBlueprint(checkpoint=...)`: each request's run is saved
under its own run id (real uvicorn and werkzeug servers, a real SQLite file); a failed one is pending
and resumes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask

from cadence import Cadence, Score, SQLiteCheckpointStore, pending
from cadence.integrations.fastapi import CadenceRouter
from cadence.integrations.flask import CadenceBlueprint
from tests.integrations.servers import serve_uvicorn, serve_werkzeug

DOWN = {"payments"}


@dataclass
class Order(Score):
    order_id: str = ""
    priced: bool = False
    charged: bool = False


def price(score: Order) -> None:
    score.priced = True


def charge(score: Order) -> None:
    if score.order_id == "bad" and "payments" in DOWN:
        raise RuntimeError("payments are down")
    score.charged = True


orders = Cadence("orders", Order()).then("price", price).then("charge", charge)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteCheckpointStore:
    DOWN.add("payments")
    return SQLiteCheckpointStore(tmp_path / "requests.db")


@contextmanager
def serve_fastapi(router: CadenceRouter) -> Iterator[str]:
    app = FastAPI()
    app.include_router(router)
    with serve_uvicorn(app) as url:
        yield url


@contextmanager
def serve_flask(blueprint: CadenceBlueprint) -> Iterator[str]:
    app = Flask(__name__)
    app.register_blueprint(blueprint)
    with serve_werkzeug(app) as url:
        yield url


def _check(base: str, store: SQLiteCheckpointStore) -> None:
    ok = httpx.post(f"{base}/orders/good", timeout=30)
    assert ok.status_code == 200
    assert ok.json()["charged"] is True
    bad = httpx.post(f"{base}/orders/bad", timeout=30)
    assert bad.status_code == 500
    runs = store.runs()
    assert sorted(r.status for r in runs) == ["done", "failed"]
    assert all(r.run_id.startswith("req-") for r in runs)
    left = pending(store)
    assert [r.status for r in left] == ["failed"]
    saved = store.load(left[0].run_id)
    assert saved is not None
    assert saved.done == {"orders/price"}
    DOWN.clear()  # the startup recipe of the README: resume what a dead process left

    for info in orders.pending(store):
        score = asyncio.run(orders.resume(info.run_id, store))
        assert (score.order_id, score.priced, score.charged) == ("bad", True, True)
    assert pending(store) == []


def test_router_checkpoints_each_request(store: SQLiteCheckpointStore) -> None:
    router = CadenceRouter(checkpoint=store)

    @router.cadence("/orders/{order_id}", orders)
    def make(order_id: str) -> Order:
        return Order(order_id=order_id)

    with serve_fastapi(router) as base:
        _check(base, store)


def test_blueprint_checkpoints_each_request(store: SQLiteCheckpointStore) -> None:
    blueprint = CadenceBlueprint("orders", __name__, checkpoint=store)

    @blueprint.cadence_route("/orders/<order_id>", orders)
    def make(order_id: str) -> Order:
        return Order(order_id=order_id)

    with serve_flask(blueprint) as base:
        _check(base, store)
