"""Serialisation benchmark: ``serialize_score`` / ``serialize_value`` against ``json.dumps`` of the same data.

Run with ``.venv/bin/python bench/serialize.py``. Not a test: it prints one table and exits 0, unless
``--strict`` is given (then it exits 1 when a row misses its target).

A checkpoint serialises each changed field after every measure, then writes it as JSON text, so the
serialiser must cost no more than the ``json.dumps`` that follows it: target ≤ 2× of ``json.dumps`` of
the same (plain) data. Plain JSON values take the fast path (checked, not copied), so rows of plain
data mostly price the walk over the values.

Method: each side is warmed up, a batch size is picked so a batch takes about 5 ms, then batches of
the two sides are interleaved (alternating which goes first) and the medians compared. The garbage
collector is paused inside a batch, as ``timeit`` does.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cadence import Score, serialize_score, serialize_value

TARGET = 2.0


@dataclasses.dataclass
class Small(Score):
    """A typical service score: a few scalars, a short list, a small dict."""

    order_id: str = "ord-0001"
    customer: str = "ada@example.com"
    total_cents: int = 12_345
    paid: bool = False
    discount: float = 0.1
    lines: list[str] = dataclasses.field(default_factory=lambda: ["sku-1", "sku-2", "sku-3"])
    meta: dict[str, Any] = dataclasses.field(default_factory=lambda: {"source": "web", "retries": 0})


@dataclasses.dataclass
class Big(Small):
    """``Small`` plus a 1 MB string (a document, a response body)."""

    body: str = "x" * 1_000_000


class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"


@dataclasses.dataclass(frozen=True)
class Line:
    sku: str
    price: Decimal
    qty: int


@dataclasses.dataclass
class Tagged(Score):
    """A score whose values need tags: datetime, Decimal, enum, tuples, a set, nested dataclasses."""

    status: Status = Status.NEW
    placed: dt.datetime = dt.datetime(2026, 12, 6, 22, tzinfo=dt.UTC)
    total: Decimal = Decimal("123.45")
    lines: tuple[Line, ...] = (Line("a", Decimal("1.50"), 2), Line("b", Decimal("9.99"), 1))
    flags: set[str] = dataclasses.field(default_factory=lambda: {"gift", "express"})


@dataclasses.dataclass
class Row:
    label: str
    ours: Callable[[], object]
    json_side: Callable[[], object]
    target: float | None = TARGET


def rows() -> list[Row]:
    small, big, tagged = Small(), Big(), Tagged()
    small_data, big_data, tagged_data = serialize_score(small), serialize_score(big), serialize_score(tagged)
    dicts = [
        {"id": i, "name": f"item {i}", "price": i * 1.5, "tags": ["a", "b"], "ok": True}
        for i in range(10_000)
    ]
    ints = list(range(100_000))
    return [
        Row("small score (7 plain fields)", lambda: serialize_score(small), lambda: json.dumps(small_data)),
        Row("score with a 1 MB str field", lambda: serialize_score(big), lambda: json.dumps(big_data)),
        Row("10k-item list of dicts", lambda: serialize_value(dicts), lambda: json.dumps(dicts)),
        Row("100k-int list", lambda: serialize_value(ints), lambda: json.dumps(ints)),
        Row(
            "small score of tagged values (no target)",
            lambda: serialize_score(tagged),
            lambda: json.dumps(tagged_data),
            None,
        ),
    ]


def batch_ns(work: Callable[[], object], n: int) -> int:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(n):
            work()
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


def calibrate(work: Callable[[], object], budget_ns: int) -> int:
    n = 1
    while True:
        spent = batch_ns(work, n)
        if spent >= budget_ns // 4:
            return max(1, n * budget_ns // max(spent, 1))
        n *= 4


def measure(row: Row, repeats: int, budget_ns: int) -> tuple[float, float]:
    """Median ns per call of each side."""
    n_ours, n_json = calibrate(row.ours, budget_ns), calibrate(row.json_side, budget_ns)
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(repeats):
        pair = [(row.ours, n_ours, ours), (row.json_side, n_json, theirs)]
        for work, n, out in pair if i % 2 == 0 else reversed(pair):
            out.append(batch_ns(work, n) / n)
    return statistics.median(ours), statistics.median(theirs)


def fmt(ns: float) -> str:
    return f"{ns / 1000:,.1f} µs" if ns >= 1000 else f"{ns:,.0f} ns"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses its target")
    args = parser.parse_args()
    repeats, budget = (9, 2_000_000) if args.quick else (31, 5_000_000)
    header = ("workload", "serialize", "json.dumps", "ratio", "target", "")
    table = [header]
    missed = False
    for row in rows():
        ours, theirs = measure(row, repeats, budget)
        ratio = ours / theirs
        target = f"≤ {row.target:g}×" if row.target else "-"
        verdict = "" if row.target is None else ("PASS" if ratio <= row.target else "MISS")
        missed |= verdict == "MISS"
        table.append((row.label, fmt(ours), fmt(theirs), f"{ratio:.2f}×", target, verdict))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print(
            " | ".join(
                c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
