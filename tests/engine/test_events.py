"""The event stream: the exact sequence for a cadence using every measure kind."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    Cadence,
    MergeConflict,
    MergeStrategy,
    RunRecorder,
    Score,
    events,
    fallback,
    note,
    retry,
    timeout,
)


@dataclass
class Shop(Score):
    items: list[str] = field(default_factory=list)
    total: int = 0
    label: str = ""
    flag: bool = False
    paid: bool = False
    status: str = ""


@dataclass
class Pay(Score):
    attempts: int = 0
    status: str = ""


def validate(s: Shop) -> None:
    s.items.append("book")


def load(s: Shop) -> None:
    s.items.append("pen")


async def price(s: Shop) -> None:
    s.total = 3


async def left(s: Shop) -> None:
    s.label = "left"
    s.flag = True


async def right(s: Shop) -> None:
    s.label = "right"


def express(s: Shop) -> None:
    s.status = "express"


def standard(s: Shop) -> None:
    s.status = "standard"


@retry(3, delay=0, jitter=False)
@note
async def charge(p: Pay) -> None:
    p.attempts += 1
    if p.attempts == 1:
        raise ConnectionError("gateway reset")


@fallback("late", field="status")
@timeout(0.01)
@note
async def confirm(p: Pay) -> None:
    await asyncio.sleep(5)


def merge_pay(parent: Shop, child: Pay) -> None:
    parent.paid = child.attempts == 2 and child.status == "late"


PAYMENT = Cadence("payment", Pay()).then("charge", charge).then("confirm", confirm)
SHOP = (
    Cadence("shop", Shop())
    .then("validate", validate)
    .sequence("prep", [load, price])
    .sync("enrich", [left, right], merge_strategy=MergeStrategy.last_write_wins)
    .split("route", lambda s: s.total, [express], [standard])
    .child("pay", PAYMENT, merge_pay)
)

EXPECTED = [
    ("run_started", "shop"),
    ("note_started", "shop/validate"),
    ("note_finished", "shop/validate"),
    ("note_started", "shop/prep/load"),
    ("note_finished", "shop/prep/load"),
    ("note_started", "shop/prep/price"),
    ("note_finished", "shop/prep/price"),
    ("forked", "shop/enrich"),
    ("note_started", "shop/enrich/left"),
    ("note_finished", "shop/enrich/left"),
    ("note_started", "shop/enrich/right"),
    ("note_finished", "shop/enrich/right"),
    ("merged", "shop/enrich"),
    ("branch_taken", "shop/route"),
    ("note_started", "shop/route/true/express"),
    ("note_finished", "shop/route/true/express"),
    ("child_entered", "shop/pay"),
    ("run_started", "shop/pay"),
    ("note_started", "shop/pay/charge"),
    ("retry_attempt", "shop/pay/charge"),
    ("note_finished", "shop/pay/charge"),
    ("note_started", "shop/pay/confirm"),
    ("timed_out", "shop/pay/confirm"),
    ("fallback_used", "shop/pay/confirm"),
    ("note_finished", "shop/pay/confirm"),
    ("run_finished", "shop/pay"),
    ("child_left", "shop/pay"),
    ("run_finished", "shop"),
]


def _by_kind(rec: RunRecorder, kind: type[events.Event]) -> list[Any]:
    return [e for e in rec.events if isinstance(e, kind)]


async def test_exact_event_sequence_for_every_measure_kind() -> None:
    """Run, notes, sequence, fork/merge, branch, child, retry, timeout and fallback events, in order."""
    rec = RunRecorder()
    score = await SHOP.run(Shop(), listeners=[rec])
    assert [(e.kind, e.node_id) for e in rec.events] == EXPECTED
    assert score.paid
    assert score.status == "express"
    assert {e.run_id for e in rec.events} == {rec.events[0].run_id}
    assert [e.depth for e in rec.events if e.node_id.startswith("shop/pay/")] == [1] * 7


async def test_event_payloads() -> None:
    """Fork lists tasks; merge has per-task changes and the conflict; branch carries the value."""
    rec = RunRecorder()
    await SHOP.run(Shop(), listeners=[rec])
    (forked,) = _by_kind(rec, events.Forked)
    assert forked.tasks == ("shop/enrich/left", "shop/enrich/right")
    (merged,) = _by_kind(rec, events.Merged)
    assert merged.strategy == "last_write_wins"
    assert merged.changes == ({"label": "left", "flag": True}, {"label": "right"})
    assert merged.conflicts == {"label": [("left", "left"), ("right", "right")]}
    assert merged.merged == {"label": "right", "flag": True}
    assert merged.error is None
    (branch,) = _by_kind(rec, events.BranchTaken)
    assert (branch.value, branch.branch) == (3, "true")
    (entered,) = _by_kind(rec, events.ChildEntered)
    assert (entered.name, entered.child, entered.cadence) == ("pay", "payment", "shop")
    (retry_event,) = _by_kind(rec, events.RetryAttempt)
    assert (retry_event.attempt, retry_event.max_attempts) == (1, 3)
    assert isinstance(retry_event.error, ConnectionError)
    (timed,) = _by_kind(rec, events.TimedOut)
    assert timed.seconds == 0.01
    finished = {e.node_id: e for e in _by_kind(rec, events.NoteFinished)}
    assert all(e.status == "done" and e.duration >= 0 for e in finished.values())
    json.dumps([e.as_dict() for e in rec.events])  # every event serialises


async def test_merge_conflict_is_an_event_with_the_error() -> None:
    """A refused merge emits `merged` with the conflict and error, then the run fails."""
    rec = RunRecorder()
    cad = Cadence("c", Shop()).sync("enrich", [left, right])
    with pytest.raises(MergeConflict):
        await cad.run(Shop(), listeners=[rec])
    (merged,) = _by_kind(rec, events.Merged)
    assert isinstance(merged.error, MergeConflict)
    assert set(merged.conflicts) == {"label"}
    assert rec.kinds[-1] == "run_finished"
    assert rec.events[-1].status == "failed"  # type: ignore[attr-defined]


async def test_failed_note_event_carries_the_error() -> None:
    """A failing note's `note_finished` has status failed and the original error."""

    def bad(s: Shop) -> None:
        raise KeyError("sku")

    rec = RunRecorder()
    with pytest.raises(Exception, match="sku"):
        await Cadence("c", Shop()).then("bad", bad).run(Shop(), listeners=[rec])
    (finished,) = _by_kind(rec, events.NoteFinished)
    assert finished.status == "failed"
    assert isinstance(finished.error, KeyError)
    assert finished.as_dict()["error"]["type"] == "KeyError"


async def test_unobserved_runs_emit_nothing_and_raising_listeners_are_dropped(caplog: Any) -> None:
    """A raising listener is logged once and the run still succeeds."""
    calls = 0

    def broken(event: events.Event) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("listener bug")

    score = await SHOP.run(Shop(), listeners=[broken])
    assert score.paid
    assert calls == 1
    assert sum("listener bug" in r.getMessage() or "disabled" in r.getMessage() for r in caplog.records) == 1


def test_events_are_immutable_and_pickle() -> None:
    """Events refuse writes, show their fields (not the score) and survive pickling."""
    import pickle

    event = events.NoteFinished(run_id="r", cadence="c", node_id="c/n", name="n", duration=0.5, score=Shop())
    with pytest.raises(AttributeError, match="immutable"):
        event.status = "failed"  # type: ignore[misc]
    assert "duration=0.5" in repr(event)
    assert "score" not in repr(event)
    copy = pickle.loads(pickle.dumps(event))
    assert (copy.node_id, copy.duration, copy.status, copy.score) == ("c/n", 0.5, "done", Shop())
    with pytest.raises(TypeError, match="no field"):
        events.NoteStarted(run_id="r", cadence="c", node_id="x", bogus=1)
