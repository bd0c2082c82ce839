"""Every measure kind on a real Temporal dev server ends on the score a local run gives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.client import Client

from cadence import (
    Cadence,
    MergeStrategy,
    Score,
    Skip,
    fallback,
    serialize_score,
)
from cadence.integrations.temporal import WorkflowFailed, run
from tests.temporal.conftest import TemporalServer
from tests.temporal.serving import serving


@dataclass
class Order(Score):
    amount: int = 10
    count: int = 0
    tags: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    info: dict[str, int] = field(default_factory=dict)
    pair: tuple[int, int] = (0, 0)
    route: str = ""
    status: str = ""
    note: str = ""
    handled: str = ""


@dataclass
class Sub(Score):
    base: int = 0
    doubled: int = 0


# ---------------------------------------------------------------------------- notes


def add_a(o: Order) -> None:
    o.count += 1
    o.tags.append("a")
    o.seen.add("a")
    o.info["a"] = 1


async def add_b(o: Order) -> None:
    o.count += 2
    o.tags.append("b")
    o.seen.add("b")
    o.info["b"] = 2


def set_route_x(o: Order) -> None:
    o.route = "x"


def set_route_y(o: Order) -> None:
    o.route = "y"


def set_pair(o: Order) -> None:
    o.pair = (1, 2)


def set_status(o: Order) -> None:
    o.status = "set"


def is_big(o: Order) -> bool:
    return o.amount > 100


def big(o: Order) -> None:
    o.route = "big"


def small(o: Order) -> None:
    o.route = "small"


def stop_here(o: Order) -> None:
    o.note = "before skip"
    raise Skip("nothing to do")


def never(o: Order) -> None:
    o.status = "never"


def interrupt(o: Order) -> bool:
    o.note = "interrupting"
    return True


def explode(o: Order) -> None:
    o.note = "exploding"
    msg = "boom"
    raise ValueError(msg)


def handle(o: Order, error: BaseException) -> None:
    o.handled = f"{type(error).__name__}: {error}"


@fallback("default-note", field="note")
def broken_default(o: Order) -> None:
    raise LookupError("no note")


def note_from_error(o: Order, error: Exception) -> str:
    o.tags.append(f"fallback saw {type(error).__name__}")
    return f"handled {error}"


@fallback(handler=note_from_error, field="note")
async def broken_handler(o: Order) -> None:
    raise KeyError("k")


def keep_larger(original: Any, snapshots: Any, changes: Any) -> dict[str, Any]:
    return {"count": max(s.score.count for s in snapshots), "tags": ["custom"]}


def sub_score(o: Order) -> Sub:
    return Sub(base=o.amount)


def double(s: Sub) -> None:
    s.doubled = s.base * 2


def merge_sub(o: Order, s: Sub) -> None:
    o.count = s.doubled


def merge_fresh(o: Order, s: Sub) -> None:
    o.note = f"fresh {s.base} {s.doubled}"


# ---------------------------------------------------------------------------- cadences


def _cadences() -> dict[str, Callable[[], Cadence[Order]]]:
    sub = Cadence("m-sub", Sub(base=3)).then("double", double)
    return {
        "m-sync-smart": lambda: Cadence("m-sync-smart", Order()).sync(
            "both", [add_a, add_b], merge_strategy=MergeStrategy.smart_merge
        ),
        "m-sync-lww": lambda: Cadence("m-sync-lww", Order()).sync(
            "both", [set_route_x, set_route_y, set_pair], merge_strategy=MergeStrategy.last_write_wins
        ),
        "m-sync-fail": lambda: Cadence("m-sync-fail", Order()).sync(
            "both", [set_route_x, set_pair, set_status]
        ),
        "m-split": lambda: (
            Cadence("m-split", Order())
            .split("size", is_big, big, small)
            .split("psize", is_big, [big], [set_route_x, set_status], parallel=True)
        ),
        "m-sequence": lambda: Cadence("m-sequence", Order()).sequence("steps", [add_a, add_b, set_pair]),
        "m-child": lambda: (
            Cadence("m-child", Order())
            .child("sub", sub, merge_sub, score=sub_score)
            .child("fresh", sub, merge_fresh)
        ),
        "m-skip": lambda: (
            Cadence("m-skip", Order()).then("a", add_a).then("stop", stop_here).then("never", never)
        ),
        "m-interrupt": lambda: (
            Cadence("m-interrupt", Order())
            .then("a", add_a)
            .then("maybe", interrupt, can_interrupt=True)
            .then("never", never)
        ),
        "m-error-stop": lambda: (
            Cadence("m-error-stop", Order())
            .then("a", add_a)
            .then("explode", explode)
            .then("never", never)
            .on_error(handle)
        ),
        "m-error-go-on": lambda: (
            Cadence("m-error-go-on", Order())
            .then("explode", explode)
            .then("after", set_status)
            .on_error(handle, stop=False)
        ),
        "m-fallbacks": lambda: (
            Cadence("m-fallbacks", Order()).then("default", broken_default).then("handler", broken_handler)
        ),
        "m-custom-merge": lambda: Cadence("m-custom-merge", Order()).sync(
            "both", [add_a, add_b], merge_strategy=keep_larger
        ),
    }


CADENCES = _cadences()


@pytest.mark.parametrize(
    ("name", "amount"),
    [
        ("m-sync-smart", 10),
        ("m-sync-lww", 10),
        ("m-sync-fail", 10),
        ("m-split", 10),
        ("m-split", 500),
        ("m-sequence", 10),
        ("m-child", 10),
        ("m-skip", 10),
        ("m-interrupt", 10),
        ("m-error-stop", 10),
        ("m-error-go-on", 10),
        ("m-fallbacks", 10),
        ("m-custom-merge", 10),
    ],
)
async def test_same_final_score_as_a_local_run(
    temporal_server: TemporalServer, name: str, amount: int
) -> None:
    """Merges (smart, last-write-wins, fail-on-conflict without overlap, custom), split both ways and in
    parallel, sequence, child with a score factory and with a fresh score, Skip, can_interrupt, on_error
    (stop and go on), fallback default and handler: the score a local run gives."""
    local = await CADENCES[name]().run(Order(amount=amount))
    cadence = CADENCES[name]()
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        remote = await run(client, cadence, Order(amount=amount), task_queue=queue)
    assert serialize_score(remote) == serialize_score(local)


async def test_conflicting_sync_fails_naming_the_field(temporal_server: TemporalServer) -> None:
    """Two members writing one field differently under fail_on_conflict: a MergeConflict, as locally."""
    make = lambda: Cadence("m-conflict", Order()).sync("clash", [set_route_x, set_route_y])  # noqa: E731
    with pytest.raises(Exception, match="route") as local:
        await make().run(Order())
    cadence = make()
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        with pytest.raises(WorkflowFailed) as remote:
            await run(client, cadence, Order(), task_queue=queue)
    assert remote.value.kind == "MergeConflict"
    assert remote.value.node_id == "m-conflict/clash"
    assert "'route' was changed by several parallel tasks" in str(remote.value)
    assert "'route' was changed by several parallel tasks" in str(local.value)


async def test_failing_note_fails_the_run_naming_the_note(temporal_server: TemporalServer) -> None:
    """No handler: run() raises WorkflowFailed naming the note, its node id and its error."""
    cadence = Cadence("m-fails", Order()).then("a", add_a).then("explode", explode)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        with pytest.raises(WorkflowFailed) as failed:
            await run(client, cadence, Order(), task_queue=queue)
    error = failed.value
    assert (error.kind, error.node_id, error.note_name) == ("NoteError", "m-fails/explode", "explode")
    assert error.error_type == "builtins:ValueError"
    assert "note 'explode' failed: ValueError: boom" in str(error)


async def test_a_failing_sync_member_cancels_its_siblings(temporal_server: TemporalServer) -> None:
    """A member's failure fails the group (ParallelNoteError naming group and member), and a slow
    sibling is cancelled rather than waited for."""

    async def slow(o: Order) -> None:
        await asyncio.sleep(30)
        o.route = "slow"

    cadence = Cadence("m-sync-error", Order()).sync("group", [slow, explode])
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        with pytest.raises(WorkflowFailed) as failed:
            await asyncio.wait_for(run(client, cadence, Order(), task_queue=queue), 20)
    assert failed.value.kind == "ParallelNoteError"
    assert "parallel task 'explode' of 'group' failed: ValueError: boom" in str(failed.value)
