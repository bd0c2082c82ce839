"""Serialisation round trips: every type the durable-runs issue lists comes back as itself through JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pydantic.dataclasses
import pytest

import cadence
from cadence import (
    TRANSIENT,
    Atomic,
    AtomicDict,
    AtomicList,
    ImmutableScore,
    Score,
    restore_score,
    restore_value,
    serialize_score,
    serialize_value,
)


def through_json(value: Any) -> Any:
    """Serialise, dump as strict JSON (no NaN), load, restore."""
    text = json.dumps(serialize_value(value), allow_nan=False)
    return restore_value(json.loads(text))


class Colour(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 1
    W = 2
    X = 4


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Item:
    sku: str
    price: Decimal
    tags: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True)
class Address:
    city: str
    at: tuple[float, float]


@dataclasses.dataclass
class Order(Score):
    items: list[Item] = dataclasses.field(default_factory=list)
    ship_to: Address | None = None
    colour: Colour = Colour.RED
    placed: dt.datetime | None = None
    counter: Atomic[int] = dataclasses.field(default_factory=lambda: Atomic(0))
    log: AtomicList[str] = dataclasses.field(default_factory=AtomicList)
    seen: AtomicDict[Any, Any] = dataclasses.field(default_factory=AtomicDict)
    meta: dict[Any, Any] = dataclasses.field(default_factory=dict)


@pydantic.dataclasses.dataclass
class Customer:
    name: str
    tier: Level
    joined: dt.date


@pydantic.dataclasses.dataclass
class PydanticScore:
    customer: Customer
    visits: list[int]
    cache: dict[str, int] = dataclasses.field(default_factory=lambda: {"warm": 1}, metadata=TRANSIENT)


@dataclasses.dataclass(frozen=True)
class Frozen(ImmutableScore):
    total: Decimal = Decimal(0)
    lines: tuple[Item, ...] = ()
    computed: int = dataclasses.field(init=False, default=0)


PARIS = zoneinfo.ZoneInfo("Europe/Paris")

VALUES = [
    None, True, False, 0, -7, 10**30, 1.5, -0.0, "", "héllo \u2603\n\"q\"",
    [], {}, [1, [2, [3]]], {"a": {"b": [1, 2.5, None]}}, [*range(20), (1, 2)], [*range(20), math.inf],
    (), (1,), (1, (2, 3), [4]), [1, (2, 3)], {"k": (1, 2)},
    {1: "a", (1, 2): "b", None: "c", 2.5: "d", Level.LOW: "e"},
    {"$t": "tuple", "v": [1, 2]}, {"$t": 1}, [{"$t": "x"}], {"outer": {"$t": "float", "v": "nan"}},
    set(), {1, 2, 3}, {"b", "a"}, {1, "mixed"}, frozenset({(1, 2), (3, 4)}), {frozenset({1})},
    b"", b"\x00\xffbytes", bytearray(b"ba"),
    Decimal("1.10"), Decimal("-0"), Decimal("Infinity"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"), Path("/tmp/x y/z.txt"),
    dt.date(2026, 12, 6), dt.datetime(2026, 12, 6, 22, 0, 0, 123456),
    dt.datetime(2026, 12, 6, 22, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1),
    dt.time(8, 15, 30, 5), dt.time(8, 15, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
    dt.timedelta(days=-1, seconds=5, microseconds=7),
    Colour.RED, Colour.PAIR, Level.HIGH, Perm.R | Perm.X, Perm(0),
    Point(1, 2), [Point(3, 4)],
    Item("a", Decimal("9.99"), {"x", "y"}), Address("Oslo", (59.9, 10.7)),
    {"nested": [Item("b", Decimal(1)), (Address("Rome", (41.9, 12.5)), {Level.LOW})]},
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_value_round_trips_through_strict_json(value: Any) -> None:
    """Each value comes back equal, as the same type (nested types too, which == checks for tuples)."""
    restored = through_json(value)
    assert type(restored) is type(value)
    assert restored == value
    if isinstance(value, dt.datetime | dt.time):
        assert restored.tzinfo == value.tzinfo
        assert restored.fold == value.fold


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_round_trip(value: float) -> None:
    """nan and the infinities are not JSON: they are tagged, and come back."""
    restored = through_json(value)
    assert type(restored) is float
    assert repr(restored) == repr(value)
    assert repr(through_json([1.0, value])[1]) == repr(value)


def test_zoneinfo_keeps_its_zone() -> None:
    """A datetime in a ZoneInfo comes back in that zone (not a fixed offset): later arithmetic stays right."""
    restored = through_json(dt.datetime(2026, 3, 28, 12, tzinfo=PARIS))
    assert restored.tzinfo is PARIS
    assert (restored + dt.timedelta(days=1)).utcoffset() == dt.timedelta(hours=2)


def test_atomic_types_round_trip_as_themselves() -> None:
    """Atomic, AtomicList and AtomicDict save their contents and come back as the same Atomic type."""
    value = [Atomic((1, 2)), AtomicList([Item("a", Decimal(2))]), AtomicDict({1: {"x"}, "k": None})]
    restored = through_json(value)
    assert [type(v) for v in restored] == [Atomic, AtomicList, AtomicDict]
    assert restored == value
    assert restored[0].get() == (1, 2)
    assert restored[2].get_all() == {1: {"x"}, "k": None}


def test_a_whole_score_round_trips() -> None:
    """serialize_score gives {field: JSON}; restore_score builds an equal score of the same class."""
    score = Order(
        items=[Item("a", Decimal("1.5"), {"sale"}), Item("b", Decimal("2"))],
        ship_to=Address("Oslo", (59.9, 10.7)),
        colour=Colour.PAIR,
        placed=dt.datetime(2026, 12, 6, 22, tzinfo=dt.UTC),
        meta={"retries": 2, (1, 2): "pair", "$t": "mine"},
    )
    score.counter.set(5)
    score.log.extend(["a", "b"])
    score.seen.set(Level.HIGH, Perm.W)
    data = serialize_score(score)
    assert set(data) == {f.name for f in dataclasses.fields(Order)}
    restored = restore_score(Order, json.loads(json.dumps(data, allow_nan=False)))
    assert type(restored) is Order
    assert restored == score
    assert restored.counter.get() == 5


def test_plain_json_is_returned_without_copying() -> None:
    """Fast path: plain lists and dicts come back as they are; a tagged item copies only its container."""
    plain = {"a": [1, 2.5, "x", None, True], "b": {"c": [{"d": 1}]}}
    assert serialize_value(plain) is plain
    mixed = [1, 2, (3, 4), 5]
    out = serialize_value(mixed)
    assert out is not mixed
    assert out == [1, 2, {"$t": "tuple", "v": [3, 4]}, 5]
    assert mixed == [1, 2, (3, 4), 5]  # the score's own list is untouched


def test_restore_builds_new_containers() -> None:
    """restore_value never hands back the saved data's own lists and dicts (notes may mutate the score)."""
    data = {"a": [1, 2], "b": {"c": 3}}
    restored = restore_value(data)
    assert restored == data
    assert restored is not data
    assert restored["a"] is not data["a"]


def test_tagged_looking_dicts_are_escaped() -> None:
    """A user's dict with a "$t" key is saved as pairs, so it is never read back as a tag."""
    value = {"$t": "datetime", "v": "2026-12-06T22:00:00"}
    saved = serialize_value(value)
    assert saved["$t"] == "dict"
    assert through_json(value) == value
    assert through_json(Order(meta=value)).meta == value  # type: ignore[attr-defined]


def test_pydantic_dataclass_round_trips() -> None:
    """A pydantic dataclass score (and a nested one) round trips; a TRANSIENT field uses default_factory."""
    score = PydanticScore(Customer("Ada", Level.HIGH, dt.date(2020, 1, 2)), [1, 2], cache={"hot": 9})
    data = serialize_score(score)
    assert "cache" not in data
    restored = restore_score(PydanticScore, json.loads(json.dumps(data)))
    assert type(restored) is PydanticScore
    assert type(restored.customer) is Customer
    assert restored.customer == score.customer
    assert restored.visits == [1, 2]
    assert restored.cache == {"warm": 1}


def test_immutable_score_restores_frozen_with_init_false_fields() -> None:
    """A frozen ImmutableScore is rebuilt, and a saved init=False field gets its saved value back."""
    score = Frozen(total=Decimal("3.50"), lines=(Item("a", Decimal("3.50")),))
    object.__setattr__(score, "computed", 42)
    restored = restore_score(Frozen, json.loads(json.dumps(serialize_score(score))))
    assert restored == score
    assert restored.computed == 42
    assert type(restored.lines) is tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        restored.total = Decimal(0)  # type: ignore[misc]


@dataclasses.dataclass
class WithTransients(Score):
    kept: int = 0
    lock: Any = dataclasses.field(default=None, metadata=TRANSIENT)
    cache: dict[str, int] = dataclasses.field(default_factory=lambda: {"fresh": 1}, metadata=TRANSIENT)
    later: list[int] = dataclasses.field(
        default_factory=list, metadata={**TRANSIENT, "doc": "merged metadata"}
    )


def test_transient_fields_are_not_saved_and_come_back_from_their_defaults() -> None:
    """TRANSIENT fields are left out (even unserialisable ones), restored from default / default_factory."""
    import threading

    score = WithTransients(kept=3, lock=threading.Lock(), cache={"stale": 2}, later=[1])
    data = serialize_score(score)
    assert data == {"kept": 3}
    restored = restore_score(WithTransients, data)
    assert restored == WithTransients(kept=3, lock=None, cache={"fresh": 1}, later=[])


class Money:
    """Not a dataclass: saved through a registered codec."""

    def __init__(self, cents: int, currency: str) -> None:
        self.cents = cents
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (other.cents, other.currency) == (self.cents, self.currency)

    __hash__ = None  # type: ignore[assignment]


class Euros(Money):
    def __init__(self, cents: int) -> None:
        super().__init__(cents, "EUR")


def test_registered_codec_round_trips_its_type_and_subclasses() -> None:
    """register_codec(type, encode, decode): encode's result is serialised in turn; decode gets it back."""
    cadence.register_codec(
        Money,
        lambda m: (m.cents, m.currency, dt.date(2026, 1, 1)),
        lambda data: Money(data[0], data[1]),
        name="test.money",
    )
    saved = serialize_value([Money(150, "NOK")])
    assert saved[0]["$t"] == "codec"
    assert saved[0]["name"] == "test.money"
    assert through_json({"price": Money(150, "NOK")}) == {"price": Money(150, "NOK")}
    assert through_json(Euros(5)) == Money(5, "EUR")  # a subclass uses its base's codec
