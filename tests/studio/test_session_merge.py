"""The session attributes a `.sync` group's copies by node id, whatever order the members ended in."""

from __future__ import annotations

from typing import Any

from cadence_studio import protocol as p
from cadence_studio.protocol.session import Session
from tests.studio.scripted import event, order_tree

PRICE, STOCK = "order/enrich/price", "order/enrich/stock"
CHANGES = [{"total": 12}, {"items": ["pen"]}]  # declaration order: price, stock


def _session(*messages: p.Message) -> Session:
    session = Session("tests")
    session.begin_run(1, "order")
    for message in messages:
        session.apply(message)
    return session


def _held_price(**merged: Any) -> list[p.Message]:
    """price is held at a breakpoint: stock starts and ends first, then price."""
    return [
        event(1, "forked", "order/enrich", tasks=[PRICE, STOCK]),
        event(1, "note_started", STOCK, order_tree()),
        event(1, "note_finished", STOCK, order_tree(items=["pen"]), status="done"),
        event(1, "note_started", PRICE, order_tree()),
        event(1, "note_finished", PRICE, order_tree(total=12), status="done"),
        event(1, "merged", "order/enrich", order_tree(items=["pen"], total=12), changes=CHANGES, **merged),
    ]


def test_changes_belong_to_the_member_the_merge_names() -> None:
    """The merge event's task ids decide which copy a change belongs to, not the order of arrival."""
    run = _session(*_held_price(tasks=[PRICE, STOCK])).run
    assert run is not None
    merge = run.merges["order/enrich"]
    assert merge.tasks == [PRICE, STOCK]
    assert merge.changes == {PRICE: {"total": 12}, STOCK: {"items": ["pen"]}}


def test_a_recorded_run_without_task_ids_on_the_merge_uses_the_fork() -> None:
    """A run recorded before merges named their tasks: the fork's task ids, in declaration order."""
    run = _session(*_held_price()).run
    assert run is not None
    assert run.merges["order/enrich"].changes == {PRICE: {"total": 12}, STOCK: {"items": ["pen"]}}


def test_a_merge_naming_no_tasks_guesses_no_member() -> None:
    """Neither the merge nor a fork names the copies: they are numbered, never given a member's name."""
    run = _session(
        event(1, "note_started", STOCK, order_tree()),
        event(1, "note_started", PRICE, order_tree()),
        event(1, "merged", "order/enrich", order_tree(), changes=CHANGES),
    ).run
    assert run is not None
    assert run.merges["order/enrich"].tasks == ["order/enrich/task 0", "order/enrich/task 1"]
