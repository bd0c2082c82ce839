"""An order service written in cadence-orchestration's documented style, served with FastAPI.

Serve it with ``uvicorn examples.compat.orders_fastapi:app``; ``cadence-studio list`` and
``cadence-studio run examples/compat/orders_fastapi.py:checkout_cadence`` show and run the cadence
without a server. It uses a custom ``CadenceHooks`` class, ``LoggingHooks``, a ``PrometheusReporter``
(``.report``), one ``CircuitBreaker`` instance shared by two notes, and the FastAPI helpers
``CadenceRouter``, ``with_cadence``, ``cadence_endpoint``, ``CadenceDependency`` and ``CadenceMiddleware``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from cadence import (
    Cadence,
    CadenceHooks,
    CircuitBreaker,
    LoggingHooks,
    MergeStrategy,
    Score,
    circuit_breaker,
    fallback,
    note,
    retry,
    timeout,
)
from cadence.integrations.fastapi import (
    CadenceDependency,
    CadenceMiddleware,
    CadenceRouter,
    cadence_endpoint,
    with_cadence,
)
from cadence.reporters import PrometheusReporter

logger = logging.getLogger(__name__)

PRICES = {"book": 1200, "pen": 150, "lamp": 3400}
STOCK = {"book": 3, "pen": 40, "lamp": 0}


@dataclass
class OrderScore(Score):
    order_id: str
    items: list = None
    total: float = 0.0
    status: str = "pending"
    in_stock: dict = field(default_factory=dict)
    prices: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        super().__post_init__()
        if self.items is None:
            self.items = ["book", "pen"]


# One breaker for the warehouse: both notes that call it open and close together.
warehouse = CircuitBreaker("warehouse", failure_threshold=3, recovery_timeout=30.0)


@circuit_breaker(warehouse)
@note
async def check_stock(score: OrderScore):
    await asyncio.sleep(0.01)  # the warehouse API
    score.in_stock = {item: STOCK.get(item, 0) > 0 for item in score.items}


@fallback(default={})
@circuit_breaker(warehouse)
@timeout(seconds=2.0)
@note
async def fetch_prices(score: OrderScore):
    await asyncio.sleep(0.01)  # the warehouse's price list
    score.prices = {item: PRICES[item] for item in score.items if item in PRICES}


@note
async def calculate_total(score: OrderScore):
    score.total = sum(score.prices.get(item, 0) for item in score.items if score.in_stock.get(item))
    score.warnings = [f"{item} is out of stock" for item in score.items if not score.in_stock.get(item)]


@retry(max_attempts=3, delay=0.1, backoff="exponential")
@note
async def process_payment(score: OrderScore):
    await asyncio.sleep(0.01)  # the payment provider
    score.status = "paid" if score.total > 0 else "nothing to pay"


class AuditHooks(CadenceHooks):
    """Custom hooks, as the documentation writes them."""

    async def before_note(self, note_name, score):
        logger.debug("starting %s for %s", note_name, score.order_id)

    async def after_note(self, note_name, score, duration, error=None):
        logger.debug("completed %s in %.3fs", note_name, duration)

    async def on_error(self, note_name, score, error):
        logger.warning("error in %s: %s", note_name, error)


registry = CollectorRegistry()
reporter = PrometheusReporter(prefix="orders", registry=registry)

checkout_cadence = (
    Cadence("checkout", OrderScore(order_id="ORD-123"))
    .with_hooks(LoggingHooks())
    .with_hooks(AuditHooks())
    .with_reporter(reporter.report)
    .sync("warehouse", [check_stock, fetch_prices], merge_strategy=MergeStrategy.smart_merge)
    .then("calculate_total", calculate_total)
    .then("process_payment", process_payment)
)


# ---------------------------------------------------------------------------- the service

router = CadenceRouter()


@router.cadence("/orders/{order_id}", checkout_cadence)
async def create_order(order_id: str, items: str = "book,pen"):
    return OrderScore(order_id=order_id, items=items.split(","))


def new_order(order_id: str) -> OrderScore:
    return OrderScore(order_id=order_id)


app = FastAPI(title="orders (cadence-orchestration style)")
app.add_middleware(CadenceMiddleware)
app.include_router(router)


@app.post("/quick/{order_id}")
@with_cadence(checkout_cadence)
async def quick_order(order_id: str):
    return OrderScore(order_id=order_id, items=["pen"])


app.add_api_route("/demo", cadence_endpoint(checkout_cadence), methods=["POST"])


@app.get("/receipt/{order_id}")
async def receipt(
    score: Annotated[OrderScore, Depends(CadenceDependency(checkout_cadence, new_order))],
) -> Any:
    return {"order_id": score.order_id, "status": score.status, "total": score.total}
