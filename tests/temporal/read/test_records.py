"""A real shop.py history read into records: statuses, attempts, the timeout's fallback, scores."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cadence.integrations.temporal.history import (
    ChildRun,
    HistoryFormatError,
    MergeStep,
    RunHistory,
    Step,
    read_history,
)
from tests.temporal.read.conftest import ShopRun


def steps(run: RunHistory) -> dict[str, Step | MergeStep | ChildRun]:
    """The notes, conditions, merges and children by node id (not the helper activities)."""
    return {s.node: s for s in run.steps if not isinstance(s, Step) or s.role in ("note", "condition")}


def test_statuses_branch_merges_and_child(shop_run: ShopRun) -> None:
    """Every note done but quote_shipping, which timed out and fell back; the split took "false"; the
    two .sync groups merged; the payment child ran as workflow ID/payment."""
    run = read_history(shop_run.exported.read_text())
    assert (run.cadence, run.status, run.workflow_id) == ("checkout", "done", shop_run.workflow_id)
    by_node = steps(run)
    shipping = by_node["checkout/pricing/quote_shipping"]
    assert isinstance(shipping, Step)
    assert shipping.status == "fallback"
    assert shipping.error is not None
    assert shipping.error["type"] == "TimeoutError"
    done = [n for n, s in by_node.items() if isinstance(s, Step) and s.role == "note" and s.status == "done"]
    assert done == [
        "checkout/load_cart",
        "checkout/enrich/fetch_customer",
        "checkout/enrich/check_inventory",
        "checkout/enrich/score_fraud_risk",
        "checkout/risk_review/false/approve_frictionless",
        "checkout/pricing/compute_subtotal",
        "checkout/pricing/apply_discounts",
        "checkout/pricing/compute_total",
        "checkout/fulfilment/book_shipment",
        "checkout/fulfilment/send_confirmation",
        "checkout/complete_order",
    ]
    review = by_node["checkout/risk_review"]
    assert isinstance(review, Step)
    assert (review.role, review.branch, review.value) == ("condition", "false", False)
    enrich = by_node["checkout/enrich"]
    assert isinstance(enrich, MergeStep)
    assert enrich.tasks == (
        "checkout/enrich/fetch_customer",
        "checkout/enrich/check_inventory",
        "checkout/enrich/score_fraud_risk",
    )
    payment = by_node["checkout/payment"]
    assert isinstance(payment, ChildRun)
    assert (payment.workflow_id, payment.status) == (f"{shop_run.workflow_id}/payment", "done")


def test_a_retried_note_has_its_attempts_and_last_failure(shop_run: ShopRun) -> None:
    """authorize_payment's gateway drops the first attempt: the child's history says 2 attempts of 3,
    and the failure Temporal kept is the GatewayError."""
    child = read_history(shop_run.child_exported.read_text())
    (authorize,) = [s for s in child.steps if isinstance(s, Step) and s.name == "authorize_payment"]
    assert (authorize.status, authorize.attempts, authorize.max_attempts) == ("done", 2, 3)
    assert authorize.last_failure is not None
    assert authorize.last_failure["type"] == "GatewayError"
    assert authorize.last_failure["message"] == "gateway dropped the authorisation of 'ord-u-42-c-7'"
    assert authorize.score is not None
    assert authorize.score["attempts"] == 2


def test_score_after_each_note_equals_a_local_run(shop_run: ShopRun) -> None:
    """The score after every note (outside .sync), merge and the child equals a local run's there."""
    run = read_history(shop_run.exported.read_text())
    by_node = steps(run)
    assert shop_run.local_after, "the local run reported no scores"
    for node, local in shop_run.local_after.items():
        step = by_node[node]
        assert step.score == local, node
    assert run.score == shop_run.local_final


def _ui_style(value: Any) -> Any:
    """The same history as an older Temporal UI's download spells it: ``ActivityTaskStarted`` and the
    proto's snake_case field names (payload and memo keys left as they are)."""
    if isinstance(value, list):
        return [_ui_style(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "eventType":
            words = item.removeprefix("EVENT_TYPE_").split("_")
            out["event_type"] = "".join(w.capitalize() for w in words)
        elif key in ("fields", "metadata"):
            out[key] = item
        else:
            out[re.sub(r"([A-Z])", r"_\1", key).lower()] = _ui_style(item)
    return out


def test_every_spelling_of_a_history_reads_alike(shop_run: ShopRun) -> None:
    """The CLI's export, the SDK's fetch_history() and a UI download (PascalCase event types,
    snake_case fields) give the same records."""
    exported = json.loads(shop_run.exported.read_text())
    ui = _ui_style(exported)
    assert "event_type" in ui["events"][0]
    assert ui["events"][0]["event_type"] == "WorkflowExecutionStarted"
    first = read_history(exported).as_dict()
    assert read_history(shop_run.sdk).as_dict() == first
    assert read_history(json.dumps(ui)).as_dict() == first


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{not json", "must be JSON"),
        ('{"events": []}', "has no events"),
        ('{"runs": 1}', 'expected {"events": [...]}'),
        ('{"events": [{"eventType": "EVENT_TYPE_TIMER_FIRED"}]}', "starts with WorkflowExecutionStarted"),
    ],
)
def test_not_a_history_says_what_is_wrong(data: str, says: str) -> None:
    """Bad input is a HistoryFormatError naming the problem and how to export a history."""
    with pytest.raises(HistoryFormatError, match=re.escape(says)):
        read_history(data)
