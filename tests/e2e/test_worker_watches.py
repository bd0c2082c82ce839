"""Data breakpoints in the real worker: a watched field pauses the run right after the note that wrote
it (old → new); an expression pauses when it turns true; one that raises is said once and the run goes
on; a broken one is refused before anything runs."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui.client import WorkerClient

from .test_worker import collect_until, next_of

CART = """
from dataclasses import dataclass
from cadence import Cadence, Score

@dataclass
class Cart(Score):
    total: int = 0
    items: int = 0
    note: str = ""

async def add(s: Cart) -> None:
    s.items += 2

async def price(s: Cart) -> None:
    s.total = 12000

async def label(s: Cart) -> None:
    s.note = "big"

async def discount(s: Cart) -> None:
    s.total -= 500

cart = (
    Cadence("cart", Cart()).then("add", add).then("price", price).then("label", label)
    .then("discount", discount)
)
"""


@pytest.fixture
async def cart(tmp_path: Path) -> AsyncIterator[WorkerClient]:
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    client = WorkerClient("cart.py", cwd=tmp_path)
    await client.start()
    await next_of(client, p.Catalog)
    yield client
    await client.close(grace=1.0)


def _ended(message: p.Message) -> bool:
    return isinstance(message, p.RunEnded)


async def test_a_watched_field_pauses_right_after_each_note_that_writes_it(cart: WorkerClient) -> None:
    """`total` is written by price (0 → 12000) and discount (12000 → 11500): two pauses, after each."""
    await cart.send(p.Run(target="cart", watches=[p.Watch(kind="field", text="total")]))
    first = await next_of(cart, p.Paused)
    assert (first.kind, first.node_id) == ("after", "cart/price")
    assert first.watch is not None
    assert (first.watch.node_id, first.watch.old, first.watch.new) == ("cart/price", "0", "12000")
    assert first.watch.line() == "score.total: 0 → 12000 (written by cart/price)"
    fields = dict(first.score["c"])
    assert (fields["total"]["r"], fields["note"]["r"]) == ("12000", "''")  # label has not run yet
    await cart.send(p.Continue())
    second = await next_of(cart, p.Paused)
    assert second.watch is not None
    assert (second.node_id, second.watch.old, second.watch.new) == ("cart/discount", "12000", "11500")
    await cart.send(p.Continue())
    assert (await next_of(cart, p.RunEnded)).status == "done"


async def test_an_expression_pauses_when_it_turns_true_only(cart: WorkerClient) -> None:
    """`score.total > 10000` turns true after price; it stays true after discount: no second pause."""
    await cart.send(p.Run(target="cart", watches=[p.Watch(kind="expr", text="score.total > 10000")]))
    paused = await next_of(cart, p.Paused)
    assert paused.watch is not None
    assert (paused.node_id, paused.watch.line()) == (
        "cart/price",
        "score.total > 10000 became true after cart/price",
    )
    await cart.send(p.Continue())
    rest = await collect_until(cart, _ended)
    assert not [m for m in rest if isinstance(m, p.Paused)]
    assert isinstance(rest[-1], p.RunEnded)
    assert rest[-1].status == "done"


async def test_an_expression_that_raises_is_said_once_and_the_run_goes_on(cart: WorkerClient) -> None:
    """`score.nope > 1` raises AttributeError after every note: one notice, no pause, the run ends done."""
    await cart.send(p.Run(target="cart", watches=[p.Watch(kind="expr", text="score.nope > 1")]))
    seen = await collect_until(cart, _ended)
    failed = [m for m in seen if isinstance(m, p.WatchFailed)]
    assert len(failed) == 1
    assert "AttributeError" in failed[0].error
    assert "nope" in failed[0].error
    assert not [m for m in seen if isinstance(m, p.Paused)]
    assert isinstance(seen[-1], p.RunEnded)
    assert seen[-1].status == "done"


@pytest.mark.parametrize(
    ("watch", "says"),
    [
        (p.Watch(kind="expr", text="score.total >"), "is not a Python expression"),
        (p.Watch(kind="field", text="totl"), "has no field 'totl' (fields: total, items, note)"),
    ],
)
async def test_a_broken_watch_refuses_the_run_before_any_note(
    cart: WorkerClient, watch: p.Watch, says: str
) -> None:
    await cart.send(p.Run(target="cart", watches=[watch]))
    seen = await collect_until(cart, _ended)
    errors = [m.message for m in seen if isinstance(m, p.WorkerError)]
    assert errors
    assert says in errors[0], errors
    assert not [m for m in seen if isinstance(m, p.EventMessage)]
    assert isinstance(seen[-1], p.RunEnded)
    assert seen[-1].status == "refused"


async def test_watches_set_while_paused_apply_to_the_rest_of_the_run(cart: WorkerClient) -> None:
    """Paused before the first note, a field watch is added; it catches price's write."""
    await cart.send(p.Run(target="cart", pause_at_start=True))
    await next_of(cart, p.Paused)
    await cart.send(p.SetWatches(watches=[p.Watch(kind="field", text="score.total")]))
    await cart.send(p.Continue())
    paused = await next_of(cart, p.Paused)
    assert paused.watch is not None
    assert paused.node_id == "cart/price"
    await cart.send(p.Stop())
