"""A FastAPI service on the checkout cadence of ``examples/shop.py``.

Run it with one command (from the project's folder)::

    .venv/bin/uvicorn examples.api:app --port 8000

then ``curl -X POST localhost:8000/carts/c-7/checkout?user_id=u-42``. Each request gets its own
``CheckoutScore``; the response is the finished score, or ``{"error": {"code": ...}}`` with 500, 503
(an open circuit) or 504 (a timeout). ``curl localhost:8000/metrics`` shows the Prometheus metrics
of the checkouts served so far (note and run durations, counts by status, errors, retries, in flight).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from cadence.integrations.fastapi import CadenceRouter
from cadence.reporters import PrometheusReporter
from examples.shop import CheckoutScore, create_checkout_cadence

#: The service's own metrics registry, published at /metrics.
registry = CollectorRegistry()
#: The shop's checkout (its own instance, so the metrics hook stays with this service).
checkout = create_checkout_cadence().with_hooks(PrometheusReporter(prefix="shop", registry=registry))

router = CadenceRouter(tags=["checkout"])
router.metrics_route("/metrics", registry=registry)


def summary(score: CheckoutScore) -> dict[str, Any]:
    """What a client needs back: the order, the money and what happened."""
    return {
        "order_id": score.order_id,
        "status": score.status,
        "total_cents": score.total,
        "payment_id": score.payment_id,
        "tracking_number": score.tracking_number,
        "degraded": score.degraded,
    }


@router.cadence("/carts/{cart_id}/checkout", checkout, response_mapper=summary)
async def check_out(cart_id: str, user_id: str = "u-42") -> CheckoutScore:
    """Check out ``cart_id`` for ``user_id`` (a fresh score per request)."""
    return CheckoutScore(user_id=user_id, cart_id=cart_id)


app = FastAPI(title="Cadence shop")
app.include_router(router)
