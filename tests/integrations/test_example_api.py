"""examples/api.py: the checkout served by a real uvicorn, answered per request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from examples.api import app

from tests.integrations.servers import serve_uvicorn


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_uvicorn(app) as url:
        yield url


async def test_each_request_checks_out_its_own_cart(base_url: str) -> None:
    """Twenty concurrent checkouts each answer with their own order, completed."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        responses = await asyncio.gather(
            *(client.post(f"/carts/c-{i}/checkout", params={"user_id": f"u-{i}"}) for i in range(20))
        )
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["order_id"] == f"ord-u-{i}-c-{i}"
        assert body["status"] == "completed"
        assert body["total_cents"] > 0


async def test_metrics_count_the_checkouts_served(base_url: str) -> None:
    """/metrics publishes the service's checkouts, parsed back with prometheus_client's parser."""
    from prometheus_client.parser import text_string_to_metric_families

    def runs(text: str) -> float:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "shop_cadence_runs_total" and s.labels == {
                    "cadence": "checkout",
                    "status": "done",
                }:
                    return s.value
        return 0.0

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        before = runs((await client.get("/metrics")).text)
        answers = await asyncio.gather(*(client.post(f"/carts/m-{i}/checkout") for i in range(5)))
        assert [a.status_code for a in answers] == [200] * 5
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert runs(metrics.text) == before + 5
    assert 'shop_in_flight{cadence="checkout"} 0.0' in metrics.text
    assert 'shop_notes_total{cadence="payment",note="capture_payment",status="done"}' in metrics.text
