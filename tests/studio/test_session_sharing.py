"""A run keeps one score per note start and end, sharing what the note left alone with the score before.

The sharing saves memory on long runs (issue 18); these tests check it changes no answer: the score
before and after each note, which note wrote a field (provenance), and the writes of each note.
"""

from __future__ import annotations

import copy
from typing import Any

from cadence_studio import protocol as p
from cadence_studio.protocol.session import Session, share_subtrees
from tests.studio.scripted import entry, event, order_tree

NOTES = ["order/load", "order/price", "order/tax", "order/stock"]


def _steps() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(node, score before, score after): each note changes one field, or none (tax)."""
    trees = [
        order_tree(),
        order_tree(user="u-2"),
        order_tree(user="u-2", total=12),
        order_tree(user="u-2", total=12),
        order_tree(user="u-2", total=12, items=["pen"]),
    ]
    return [(node, trees[i], trees[i + 1]) for i, node in enumerate(NOTES)]


def _run(steps: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> Session:
    session = Session("tests")
    session.begin_run(1, "order")
    messages: list[p.Message] = []
    for node, before, after in steps:
        messages.append(event(1, "note_started", node, before))
        messages.append(event(1, "note_finished", node, after, status="done", duration=0.01))
    messages.append(p.RunEnded(run=1, status="done", duration=0.1, score=steps[-1][2]))
    for message in messages:
        session.apply(message)
    return session


def test_every_note_keeps_the_scores_it_was_sent() -> None:
    steps = _steps()
    run = _run(steps).run
    assert run is not None
    for node, before, after in steps:
        assert run.before[node] == before
        assert run.after[node] == after
    assert run.score == steps[-1][2]


def test_a_score_shares_the_fields_its_note_left_alone() -> None:
    """After price (total) the user and items nodes are the very objects kept after load."""
    run = _run(_steps()).run
    assert run is not None
    load, price = dict(run.after["order/load"]["c"]), dict(run.after["order/price"]["c"])
    assert price["user"] is load["user"]
    assert price["items"] is load["items"]
    assert price["total"] is not load["total"]
    # two kept scores stay two objects, even when equal (tax changed nothing)
    assert run.after["order/tax"] == run.before["order/tax"]
    assert run.after["order/tax"] is not run.before["order/tax"]


def test_provenance_is_the_same_with_shared_scores() -> None:
    """Which note wrote each field, and what each note wrote: as computed from unshared copies."""
    run = _run(_steps()).run
    assert run is not None
    writes = run.writes
    assert [w.node_id for w in writes.provenance("user")] == ["order/load"]
    assert [w.node_id for w in writes.provenance("total")] == ["order/price"]
    assert [w.node_id for w in writes.provenance("items")] == ["order/stock"]
    assert writes.written_by("order/tax") == {}
    assert set(writes.written_by("order/stock")) == {"items"}


def test_share_subtrees_never_returns_the_old_root_and_keeps_values() -> None:
    old, new = order_tree(total=1), order_tree(total=2)
    shared = share_subtrees(new, old)
    assert shared == new
    assert shared is not old
    assert share_subtrees(old, old) is not old
    assert share_subtrees(None, old) is None


def test_a_run_on_the_catalogs_graph_keeps_one_copy_of_it() -> None:
    """The graph a run began on is the catalog's object when equal; a different graph is kept as sent."""
    listed = entry()
    assert listed.graph is not None
    session = Session("tests")
    session.apply(p.Catalog(entries=[listed]))
    session.begin_run(1, "order")
    session.apply(p.RunBegan(run=1, target="order", graph=copy.deepcopy(listed.graph)))
    assert session.run is not None
    assert session.run.graph is session.entries[0].graph
    changed = {**copy.deepcopy(listed.graph), "name": "other"}
    session.begin_run(2, "order")
    session.apply(p.RunBegan(run=2, target="order", graph=changed))
    assert session.run.graph == changed
    assert session.run.graph is not session.entries[0].graph
