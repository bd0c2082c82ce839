"""A scripted worker client: the studio's UI tests talk to this instead of a subprocess."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cadence import Cadence, Score, retry
from cadence_studio import protocol as p


@dataclass
class Order(Score):
    user: str = "u-1"
    items: list[str] = field(default_factory=list)
    total: int = 0
    paid: bool = False


@dataclass
class Pay(Score):
    ok: bool = False


def load(s: Order) -> None:
    s.items.append("book")


def price(s: Order) -> None:
    s.total = 12


def tax(s: Order) -> None:
    s.total += 1


def stock(s: Order) -> None:
    s.items.append("pen")


def big(s: Order) -> bool:
    return s.total > 10


@retry(3, delay=0)
def charge(s: Pay) -> None:
    s.ok = True


def merge(o: Order, pay: Pay) -> None:
    o.paid = pay.ok


PAY = Cadence("pay", Pay()).then("charge", charge)
ORDER = (
    Cadence("order", Order())
    .then("load", load)
    .sync("enrich", [price, stock])
    .split("route", big, [tax], None)
    .child("payment", PAY, merge)
)


def entry(cadence: Cadence[Any] = ORDER, name: str = "order") -> p.CadenceEntry:
    return p.CadenceEntry(
        name=name,
        kind="cadence",
        graph=cadence.describe(),
        score_type="tests.Order",
        score={
            "t": "Order",
            "k": "dataclass",
            "r": "Order()",
            "c": [["user", {"t": "str", "k": "scalar", "r": "'u-1'"}]],
        },
        score_json={"user": "u-1", "items": [], "total": 0, "paid": False},
    )


def factory_entry() -> p.CadenceEntry:
    return p.CadenceEntry(
        name="make_order",
        kind="factory",
        params=[p.Param(name="user", annotation="str", required=True)],
    )


def scalar(value: Any) -> dict[str, Any]:
    return {"t": type(value).__name__, "k": "scalar", "r": repr(value)}


def order_tree(**fields: Any) -> dict[str, Any]:
    values = {"user": "u-1", "items": [], "total": 0, "paid": False, **fields}
    children = []
    for key, value in values.items():
        if isinstance(value, list):
            children.append(
                [
                    key,
                    {
                        "t": "list",
                        "k": "sequence",
                        "r": repr(value),
                        "n": len(value),
                        "c": [[str(i), scalar(v)] for i, v in enumerate(value)],
                    },
                ]
            )
        else:
            children.append([key, scalar(value)])
    return {"t": "Order", "k": "dataclass", "r": f"Order({values})", "n": len(values), "c": children}


def event(run: int, kind: str, node: str, score: Any = None, **fields: Any) -> p.EventMessage:
    return p.EventMessage(
        run=run,
        event={"kind": kind, "node_id": node, "run_id": "r", "cadence": "order", "depth": 0, **fields},
        score=score,
    )


@dataclass
class ScriptedClient:
    """Records commands; ``on_command`` may answer them by pushing messages."""

    entries: list[p.CadenceEntry] = field(default_factory=lambda: [entry()])
    on_command: Callable[[ScriptedClient, BaseModel], None] | None = None
    sent: list[BaseModel] = field(default_factory=list)
    starts: int = 0
    closed: bool = False
    load_failure: p.LoadFailed | None = None
    module_file: str | None = None

    def __post_init__(self) -> None:
        self.queue: asyncio.Queue[p.Message] = asyncio.Queue()

    async def start(self) -> None:
        self.starts += 1
        if self.load_failure is not None:
            self.push(self.load_failure)
            return
        self.push(p.Ready(target="tests", module="tests", file=self.module_file, pid=1))
        self.push(p.Catalog(entries=self.entries))

    def push(self, *messages: p.Message) -> None:
        for message in messages:
            self.queue.put_nowait(message)

    async def send(self, command: BaseModel) -> None:
        self.sent.append(command)
        if isinstance(command, p.CheckScore):  # as the worker would: unknown fields are refused by name
            unknown = sorted(set(command.score) - {"user", "items", "total", "paid"})
            error = f"field {unknown[0]!r}: no such field" if unknown else None
            self.push(p.ScoreChecked(target=command.target, error=error, fields=unknown))
        if self.on_command is not None:
            self.on_command(self, command)

    async def messages(self) -> AsyncIterator[p.Message]:
        while True:
            yield await self.queue.get()

    def pending(self) -> list[p.Message]:
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    async def restart(self) -> None:
        await self.start()

    async def close(self, *, grace: float = 0.0) -> None:
        self.closed = True

    def commands(self, kind: type[BaseModel]) -> list[Any]:
        return [c for c in self.sent if isinstance(c, kind)]
