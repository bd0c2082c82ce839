"""examples/shop.py: the demo runs, its graph uses every measure kind and resilience decorator,
concurrent checkouts stay isolated, and the flaky gateway's failures are recovered."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cadence import RunRecorder

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop.py"


@pytest.fixture(scope="module")
def shop() -> ModuleType:
    """The example imported by path, as a studio would load a user's file."""
    spec = importlib.util.spec_from_file_location("shop_example", SHOP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building the class
    spec.loader.exec_module(module)
    return module


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", []):
        yield from _walk(child)


def test_demo_prints_score_timings_and_resilience() -> None:
    """`python examples/shop.py` completes the demo order and prints score, timings and resilience."""
    proc = subprocess.run(
        [sys.executable, str(SHOP)], capture_output=True, text=True, cwd=ROOT, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "checkout ord-u-42-c-7: completed" in out
    assert re.search(r"^  status\s+completed$", out, re.MULTILINE)
    # The gateway drops the demo order's first attempt; a very slow machine may time out once more.
    assert re.search(r"^  payment_attempts\s+[23]$", out, re.MULTILINE)
    assert re.search(r"^  total\s+€420\.33$", out, re.MULTILINE)
    for name in ("load_cart", "fetch_customer", "authorize_payment", "book_shipment", "complete_order"):
        assert re.search(rf"^  {name}\s+\d+\.\d$", out, re.MULTILINE), name
    assert re.search(r"^  total\s+\d+\.\d$", out, re.MULTILINE)
    assert re.search(r"^  retry\s+yes$", out, re.MULTILINE)
    assert re.search(r"^  fallback\s+yes$", out, re.MULTILINE)


def test_factory_and_module_cadence(shop: ModuleType) -> None:
    """The factory builds a fresh `checkout` cadence around a score for the given user and cart."""
    built = shop.create_checkout_cadence("u-1", "c-1")
    assert built is not shop.checkout
    assert built.name == shop.checkout.name == "checkout"
    assert (built.get_score().user_id, built.get_score().cart_id) == ("u-1", "c-1")
    assert shop.create_checkout_cadence.__annotations__["return"] == "Cadence[CheckoutScore]"


def test_describe_has_every_measure_kind_and_resilience_decorator(shop: ModuleType) -> None:
    """The described graph holds each measure kind, each decorator, hooks and a reporter."""
    tree = shop.checkout.describe()
    nodes = list(_walk(tree))
    kinds = {n["kind"] for n in nodes}
    assert {"note", "sequence", "sync", "split", "branch", "child"} <= kinds
    resilience = {p["kind"] for n in nodes if n["kind"] == "note" for p in n["note"]["resilience"]}
    assert resilience == {"retry", "timeout", "fallback", "circuit_breaker"}
    notes = [n for n in nodes if n["kind"] == "note"]
    assert 12 <= len(notes) <= 20
    assert all(n["note"]["description"] for n in notes)
    assert any(not n["note"]["is_async"] for n in notes)
    assert {n["merge_strategy"] for n in nodes if n["kind"] == "sync"} == {"smart_merge"}
    assert {"TimingHooks", "IncidentHooks"} <= set(tree["hooks"])
    assert tree["reporters"]
    assert "checkout/payment/authorize_payment" in {n["id"] for n in nodes}


async def test_fifty_concurrent_checkouts_keep_their_own_data(shop: ModuleType) -> None:
    """50 runs at once on fresh scores all complete, each with its own cart, totals and payment."""
    scores = [shop.CheckoutScore(user_id=f"u-{i}", cart_id=f"c-{i}") for i in range(50)]
    results = await asyncio.gather(*(shop.checkout.run(s) for s in scores))
    for i, (score, result) in enumerate(zip(scores, results, strict=True)):
        assert result is score
        assert result.status == "completed", (i, result.log)
        assert result.order_id == f"ord-u-{i}-c-{i}"
        assert result.items == shop.cart_items(f"c-{i}")
        assert result.subtotal == sum(item.unit_price * item.quantity for item in result.items)
        assert result.total == result.subtotal - result.discount + result.shipping
        assert result.receipt_id == f"rcpt-{result.order_id}"
        assert result.email == f"u-{i}@example.com"
        assert result.email_sent
        assert result.log[0] == f"customer {result.customer_name} ({result.tier})"
        assert result.customer_name == ("Ada Lovelace" if i == 42 else f"Customer u-{i}")
    assert len({r.payment_id for r in results}) == 50
    assert len({r.tracking_number for r in results}) == 50


async def test_flaky_gateway_fails_sometimes_and_retry_recovers(shop: ModuleType) -> None:
    """Some first authorisations fail and are retried, others pass at once; every order is paid."""
    recorders = [RunRecorder() for _ in range(30)]
    results = await asyncio.gather(
        *(
            shop.checkout.run(shop.CheckoutScore(user_id=f"u-{i}", cart_id=f"c-{i}"), listeners=[rec])
            for i, rec in enumerate(recorders)
        )
    )
    retried = ["retry_attempt" in rec.kinds for rec in recorders]
    assert any(retried)
    assert not all(retried)
    for rec, result in zip(recorders, results, strict=True):
        assert result.status == "completed"
        assert result.payment_attempts == 1 + rec.kinds.count("retry_attempt")
        assert rec.statuses["checkout/payment/authorize_payment"]["status"] == "done"
        retries = [e for e in rec.events if e.kind == "retry_attempt"]
        assert all(e.name == "authorize_payment" for e in retries)
    # Freight carts never get a carrier quote in time: the fallback prices them instead.
    fell_back = ["fallback_used" in rec.kinds for rec in recorders]
    assert any(fell_back)
    assert fell_back == [bool(r.degraded) for r in results]


async def test_unknown_account_checks_out_as_guest(shop: ModuleType) -> None:
    """A failed account lookup falls back to a guest profile; the missing email falls back too."""
    recorder = RunRecorder()
    score = await shop.checkout.run(shop.CheckoutScore(user_id="anon-1", cart_id="c-3"), listeners=[recorder])
    assert score.status == "completed"
    assert (score.tier, score.customer_name, score.discount) == ("guest", "Guest", 0)
    assert score.email_sent is False
    assert any(entry.startswith("fetch_customer:") for entry in score.degraded)
    assert recorder.kinds.count("fallback_used") >= 2


async def test_empty_cart_ends_the_checkout_cleanly(shop: ModuleType) -> None:
    """An empty cart skips the rest of the checkout without an error."""
    recorder = RunRecorder()
    score = await shop.checkout.run(shop.CheckoutScore(cart_id="c-empty"), listeners=[recorder])
    assert score.status == "pending"
    assert score.payment_id == ""
    assert "skipped" in recorder.kinds
