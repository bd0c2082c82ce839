"""An e-commerce checkout as a cadence: every measure kind, every resilience decorator, hooks, a reporter.

The graph, top to bottom::

    checkout
    ├── load_cart                      then
    ├── enrich                         sync (smart_merge)
    │   ├── fetch_customer             @fallback(guest) @timeout
    │   ├── check_inventory            @circuit_breaker @timeout
    │   └── score_fraud_risk           def, @fallback(high risk) @timeout
    ├── risk_review                    split on requires_step_up
    │   ├── true:  verify_3ds
    │   └── false: approve_frictionless
    ├── pricing                        sequence
    │   ├── compute_subtotal           def
    │   ├── apply_discounts            def
    │   ├── quote_shipping             @fallback(flat rate) @timeout
    │   └── compute_total              def
    ├── payment                        child cadence on a PaymentScore, merged by merge_payment
    │   ├── authorize_payment          @retry @timeout (a flaky gateway)
    │   ├── capture_payment
    │   └── issue_receipt              def
    ├── fulfilment                     sync (smart_merge)
    │   ├── book_shipment              @retry @timeout
    │   └── send_confirmation          @fallback @timeout
    └── complete_order                 then, def

Every service is simulated with a few milliseconds of ``asyncio.sleep``, and every "random"
outcome is seeded by the order, so a given cart always checks out the same way. Amounts are
integer cents, as payment APIs use. Run it: ``python examples/shop.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cadence import (
    Cadence,
    CadenceHooks,
    MergeStrategy,
    Score,
    Skip,
    TimingHooks,
    circuit_breaker,
    fallback,
    note,
    retry,
    timeout,
)

__all__ = [
    "CheckoutScore",
    "IncidentHooks",
    "LineItem",
    "PaymentScore",
    "cart_items",
    "checkout",
    "create_checkout_cadence",
    "create_payment_cadence",
]

log = logging.getLogger(__name__)

#: Seconds a step may take before the reporter logs it as slow.
SLOW_STEP_SECONDS = 0.5
#: Parcels heavier than this (kg) need a freight quote, which the sandbox carrier never answers in time.
FREIGHT_KG = 25.0
#: Seed of the sandbox payment gateway (chosen so the demo order sees one dropped request).
GATEWAY_SEED = 4
#: Share of first authorisation attempts the sandbox gateway drops.
GATEWAY_DROP_RATE = 0.35


# ---------------------------------------------------------------------------- scores


@dataclass(frozen=True, slots=True)
class LineItem:
    """One product line of a cart."""

    sku: str
    name: str
    unit_price: int
    quantity: int
    weight_kg: float


@dataclass
class CheckoutScore(Score):
    """Everything the checkout learns about one order, from cart to confirmation."""

    user_id: str = "u-42"
    cart_id: str = "c-7"
    order_id: str = ""
    items: list[LineItem] = field(default_factory=list)
    customer_name: str = ""
    email: str = ""
    tier: str = ""
    in_stock: bool = False
    warehouse: str = ""
    risk_score: float = 0.0
    verification: str = ""
    subtotal: int = 0
    discount: int = 0
    shipping: int = 0
    total: int = 0
    payment_id: str = ""
    payment_attempts: int = 0
    receipt_id: str = ""
    tracking_number: str = ""
    email_sent: bool = False
    status: str = "pending"
    degraded: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


@dataclass
class PaymentScore(Score):
    """One card payment: authorise, capture, receipt (the ``payment`` child cadence)."""

    order_id: str = ""
    amount: int = 0
    currency: str = "EUR"
    attempts: int = 0
    authorization_id: str = ""
    payment_id: str = ""
    receipt_id: str = ""
    log: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- simulated services

_CATALOG: dict[str, tuple[str, int, float]] = {
    "desk-oak": ("Oak standing desk", 34900, 28.0),
    "chair-mesh": ("Mesh office chair", 21900, 14.0),
    "lamp-led": ("LED desk lamp", 2990, 1.2),
    "mat-felt": ("Felt desk mat", 1990, 0.4),
    "hub-usbc": ("USB-C hub", 4490, 0.2),
    "tray-cable": ("Cable tray", 1490, 0.9),
}
_CARTS: dict[str, dict[str, int]] = {
    "c-7": {"desk-oak": 1, "lamp-led": 2, "tray-cable": 1},
    "c-empty": {},
}
_CUSTOMERS: dict[str, tuple[str, str]] = {"u-42": ("Ada Lovelace", "gold")}
_TIER_DISCOUNT_PERCENT = {"gold": 10, "silver": 5}


class GatewayError(Exception):
    """The payment gateway did not answer; safe to retry (authorisations are idempotent per order)."""


class ServiceUnavailable(Exception):
    """A simulated downstream service refused the call."""


def cart_items(cart_id: str) -> list[LineItem]:
    """The lines of a cart: a few known carts, and a seeded random one for any other id."""
    lines = _CARTS.get(cart_id)
    if lines is None:
        rng = random.Random(f"cart:{cart_id}")
        skus = rng.sample(sorted(_CATALOG), k=rng.randint(1, 3))
        lines = {sku: rng.randint(1, 3) for sku in skus}
    return [LineItem(sku, *_CATALOG[sku][:2], quantity, _CATALOG[sku][2]) for sku, quantity in lines.items()]


def _weight(items: list[LineItem]) -> float:
    return sum(i.weight_kg * i.quantity for i in items)


def _gateway_authorize(order_id: str, amount: int, attempt: int) -> str:
    """The sandbox gateway: drops some first attempts (seeded per order), answers every retry."""
    rng = random.Random(f"gateway:{GATEWAY_SEED}:{order_id}:{attempt}")
    if attempt == 1 and rng.random() < GATEWAY_DROP_RATE:
        msg = f"gateway dropped the authorisation of {order_id!r}"
        raise GatewayError(msg)
    return f"auth_{rng.getrandbits(32):08x}"


# ---------------------------------------------------------------------------- notes


@note
async def load_cart(score: CheckoutScore) -> None:
    """Load the cart's lines from the cart service; an empty cart ends the checkout."""
    await asyncio.sleep(0.003)
    score.items = cart_items(score.cart_id)
    if not score.items:
        raise Skip(f"cart {score.cart_id!r} is empty; nothing to check out")
    score.order_id = f"ord-{score.user_id}-{score.cart_id}"


def guest_profile(score: CheckoutScore, error: Exception) -> str:
    """Fallback of ``fetch_customer``: check out as a guest rather than fail the order."""
    score.customer_name, score.email = "Guest", ""
    score.degraded.append(f"fetch_customer: {error}; checked out as guest")
    return "guest"


@fallback(handler=guest_profile, field="tier")
@timeout(2.0)
@note
async def fetch_customer(score: CheckoutScore) -> None:
    """Fetch the customer's name, email and loyalty tier from the account service."""
    await asyncio.sleep(0.004)
    if not score.user_id.startswith("u-"):
        msg = f"no account {score.user_id!r}"
        raise LookupError(msg)
    name, tier = _CUSTOMERS.get(score.user_id) or (
        f"Customer {score.user_id}",
        random.Random(f"tier:{score.user_id}").choice(["gold", "silver", "standard"]),
    )
    score.customer_name, score.tier = name, tier
    score.email = f"{score.user_id}@example.com"
    score.log.append(f"customer {name} ({tier})")


@circuit_breaker(failure_threshold=5, recovery_timeout=10.0, name="warehouse-api")
@timeout(2.0)
@note
async def check_inventory(score: CheckoutScore) -> None:
    """Reserve every line at the nearest warehouse (guarded by the warehouse API's circuit breaker)."""
    await asyncio.sleep(0.005)
    score.in_stock = True
    score.warehouse = "AMS-1" if _weight(score.items) < FREIGHT_KG else "RTM-FREIGHT"
    score.log.append(f"reserved {sum(i.quantity for i in score.items)} units at {score.warehouse}")


def assume_high_risk(score: CheckoutScore, error: Exception) -> float:
    """Fallback of ``score_fraud_risk``: without a score, play safe and challenge the cardholder."""
    score.degraded.append(f"score_fraud_risk: no score ({type(error).__name__}); assumed high risk")
    return 0.75


@fallback(handler=assume_high_risk, field="risk_score")
@timeout(2.0)
@note
def score_fraud_risk(score: CheckoutScore) -> None:
    """Score the order's fraud risk from 0 to 1 (a CPU-bound model: a plain ``def`` run off the loop)."""
    value = sum(i.unit_price * i.quantity for i in score.items)
    base = random.Random(f"risk:{score.user_id}:{score.cart_id}").uniform(0.0, 0.6)
    score.risk_score = round(min(1.0, base + (0.3 if value > 30000 else 0.0)), 2)


def requires_step_up(score: CheckoutScore) -> bool:
    """Whether the order is risky enough to ask the cardholder for 3-D Secure."""
    return score.risk_score >= 0.7


@note
async def verify_3ds(score: CheckoutScore) -> None:
    """Ask the cardholder for a 3-D Secure challenge (the sandbox always passes it)."""
    await asyncio.sleep(0.004)
    score.verification = "3ds-challenge"
    score.log.append(f"risk {score.risk_score}: 3-D Secure challenge passed")


@note
def approve_frictionless(score: CheckoutScore) -> None:
    """Low risk: no challenge for the cardholder."""
    score.verification = "frictionless"


@note
def compute_subtotal(score: CheckoutScore) -> None:
    """Add up the lines."""
    score.subtotal = sum(i.unit_price * i.quantity for i in score.items)


@note
def apply_discounts(score: CheckoutScore) -> None:
    """Apply the loyalty tier's discount."""
    score.discount = score.subtotal * _TIER_DISCOUNT_PERCENT.get(score.tier, 0) // 100


def flat_rate_shipping(score: CheckoutScore, error: Exception) -> int:
    """Fallback of ``quote_shipping``: a flat rate by weight class, so the order can still go through."""
    rate = 3900 if _weight(score.items) >= FREIGHT_KG else 690
    reason = type(error).__name__
    score.degraded.append(f"quote_shipping: no carrier quote ({reason}); flat rate {_money(rate)}")
    return rate


@fallback(handler=flat_rate_shipping, field="shipping")
@timeout(0.1)
@note
async def quote_shipping(score: CheckoutScore) -> None:
    """Ask the carrier for a quote; freight quotes are slow, so the timeout's fallback takes over."""
    weight = _weight(score.items)
    await asyncio.sleep(2.0 if weight >= FREIGHT_KG else 0.004)
    score.shipping = 490 + round(weight * 50)


@note
def compute_total(score: CheckoutScore) -> None:
    """Total to charge: subtotal less discount plus shipping."""
    score.total = score.subtotal - score.discount + score.shipping
    score.status = "priced"


@retry(3, delay=0.005, max_delay=0.02, on=(GatewayError, TimeoutError))
@timeout(2.0)
@note
async def authorize_payment(score: PaymentScore) -> None:
    """Authorise the amount on the card; the gateway drops requests now and then, so retry."""
    score.attempts += 1
    await asyncio.sleep(0.003)
    score.authorization_id = _gateway_authorize(score.order_id, score.amount, score.attempts)


@note
async def capture_payment(score: PaymentScore) -> None:
    """Capture the authorised amount."""
    await asyncio.sleep(0.003)
    score.payment_id = "pay_" + score.authorization_id.removeprefix("auth_")
    score.log.append(f"charged {_money(score.amount)} in {score.attempts} attempt(s)")


@note
def issue_receipt(score: PaymentScore) -> None:
    """Number the receipt."""
    score.receipt_id = f"rcpt-{score.order_id}"


def payment_request(parent: CheckoutScore) -> PaymentScore:
    """The child's score: what the payment cadence needs to know of the order."""
    return PaymentScore(order_id=parent.order_id, amount=parent.total)


def merge_payment(parent: CheckoutScore, child: PaymentScore) -> None:
    """Copy the payment's outcome into the order."""
    parent.payment_id = child.payment_id
    parent.payment_attempts = child.attempts
    parent.receipt_id = child.receipt_id
    parent.log.extend(child.log)
    parent.status = "paid"


@retry(3, delay=0.005, max_delay=0.02)
@timeout(2.0)
@note
async def book_shipment(score: CheckoutScore) -> None:
    """Book the carrier pick-up at the warehouse and get a tracking number."""
    await asyncio.sleep(0.004)
    score.tracking_number = f"TRK{random.Random(score.order_id).randrange(10**9):09d}"
    score.log.append(f"shipment {score.tracking_number} booked from {score.warehouse}")


@fallback(False, field="email_sent")
@timeout(2.0)
@note
async def send_confirmation(score: CheckoutScore) -> None:
    """Email the confirmation; a mailer outage must not fail a paid order (it is resent later)."""
    await asyncio.sleep(0.003)
    if not score.email:
        msg = "no email address on the order"
        raise ServiceUnavailable(msg)
    score.email_sent = True


@note
def complete_order(score: CheckoutScore) -> None:
    """Mark the order completed."""
    score.status = "completed"


# ---------------------------------------------------------------------------- hooks and reporter


class IncidentHooks(CadenceHooks):
    """Remembers every retried and failed note across runs (what an on-call dashboard would graph)."""

    def __init__(self) -> None:
        self.retries: list[str] = []
        self.failures: list[str] = []
        # One instance may serve runs on several event loops (threads), like the built-in hooks.
        self._lock = threading.Lock()

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        with self._lock:
            self.retries.append(f"{name} attempt {attempt}/{max_attempts} failed: {error}")
        log.info("retrying %s after attempt %d/%d: %s", name, attempt, max_attempts, error)

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        with self._lock:
            self.failures.append(f"{name}: {type(error).__name__}: {error}")


def report_slow_step(name: str, elapsed: float, score: Any) -> None:
    """Reporter: log a warning when a note (or a whole cadence) takes longer than ``SLOW_STEP_SECONDS``."""
    if elapsed > SLOW_STEP_SECONDS:
        log.warning("%s took %.0f ms (budget %.0f ms)", name, elapsed * 1000, SLOW_STEP_SECONDS * 1000)


# ---------------------------------------------------------------------------- cadences


def create_payment_cadence() -> Cadence[PaymentScore]:
    """The ``payment`` child cadence: authorise (with retries), capture, receipt."""
    return (
        Cadence("payment", PaymentScore())
        .then("authorize_payment", authorize_payment)
        .then("capture_payment", capture_payment)
        .then("issue_receipt", issue_receipt)
        .with_reporter(report_slow_step)
    )


def create_checkout_cadence(user_id: str = "u-42", cart_id: str = "c-7") -> Cadence[CheckoutScore]:
    """The checkout cadence, with a construction score for ``user_id``'s cart ``cart_id``.

    Its hooks (a :class:`TimingHooks` and an :class:`IncidentHooks`) see the whole run, the payment
    child's notes included; find them in ``cadence.hooks``.
    """
    hooks: list[CadenceHooks] = [TimingHooks(), IncidentHooks()]
    return (
        Cadence("checkout", CheckoutScore(user_id=user_id, cart_id=cart_id))
        .then("load_cart", load_cart)
        .sync(
            "enrich",
            [fetch_customer, check_inventory, score_fraud_risk],
            merge_strategy=MergeStrategy.smart_merge,  # each task appends to `log`
        )
        .split("risk_review", requires_step_up, verify_3ds, approve_frictionless)
        .sequence("pricing", [compute_subtotal, apply_discounts, quote_shipping, compute_total])
        .child("payment", create_payment_cadence(), merge_payment, score=payment_request)
        .sync("fulfilment", [book_shipment, send_confirmation], merge_strategy=MergeStrategy.smart_merge)
        .then("complete_order", complete_order)
        .with_hooks(hooks)
        .with_reporter(report_slow_step)
    )


checkout = create_checkout_cadence()


# ---------------------------------------------------------------------------- demo

H = TypeVar("H")
_MONEY_FIELDS = frozenset({"subtotal", "discount", "shipping", "total"})


def _money(cents: int) -> str:
    return f"€{cents / 100:,.2f}"


def _hook(cadence: Cadence[Any], kind: type[H]) -> H:
    return next(h for h in cadence.hooks if isinstance(h, kind))


def _format_field(name: str, value: Any) -> str:
    if name in _MONEY_FIELDS:
        return _money(value)
    if name == "items":
        return ", ".join(f"{i.quantity}× {i.sku}" for i in value)
    if isinstance(value, list):
        return f"\n{'':20}".join(map(str, value)) or "-"
    return str(value) if value != "" else "-"


def main() -> None:
    """Check out the demo cart and print the score, the timings and what resilience did."""
    cadence = create_checkout_cadence()
    score = cadence.run_sync()
    timing, incidents = _hook(cadence, TimingHooks), _hook(cadence, IncidentHooks)

    print(f"checkout {score.order_id}: {score.status}\n")
    print("score")
    for f in dataclasses.fields(score):
        print(f"  {f.name:<18}{_format_field(f.name, getattr(score, f.name))}")

    print("\ntimings (ms)")
    for name, durations in timing.timings.items():
        if name != cadence.name:
            label = f"{name} (child cadence)" if name == "payment" else name
            print(f"  {label:<26}{durations[-1] * 1000:7.1f}")
    print(f"  {'total':<26}{timing.timings[cadence.name][-1] * 1000:7.1f}")

    print("\nresilience")
    for label, entries in (("retry", incidents.retries), ("fallback", score.degraded)):
        print(f"  {label:<10}{'yes' if entries else 'no'}")
        for entry in entries:
            print(f"  {'':<10}- {entry}")


if __name__ == "__main__":
    main()
