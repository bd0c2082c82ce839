"""Cadences for the durable-run tests: every note appends its name to the file ``$DURABLE_LOG``;
the note named in ``$DURABLE_HANG`` hangs after writing (the test kills the run there)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadence import Cadence, MergeStrategy, Score


def _ran(name: str) -> None:
    with Path(os.environ["DURABLE_LOG"]).open("a") as log:
        log.write(f"{name}\n")
    if os.environ.get("DURABLE_HANG") == name:
        time.sleep(600)


@dataclass
class Tally(Score):
    seen: list[int] = field(default_factory=list)
    total: int = 0


def _note(i: int) -> Any:
    def note(score: Tally) -> None:
        _ran(f"n{i}")
        score.seen.append(i)
        score.total += i

    return note


ten = Cadence("ten", Tally())
for _i in range(1, 11):
    ten = ten.then(f"n{_i}", _note(_i))


@dataclass
class Parts(Score):
    a: int = 0
    b: int = 0
    c: int = 0
    after: bool = False


def member(name: str) -> Any:
    def run(score: Parts) -> None:
        _ran(name)
        setattr(score, name, getattr(score, name) + 1)

    run.__name__ = name
    return run


def finish(score: Parts) -> None:
    _ran("finish")
    score.after = True


def first(score: Parts) -> None:
    _ran("first")


group = (
    Cadence("group", Parts())
    .then("first", first)
    .sync("trio", [member("a"), member("b"), member("c")], merge_strategy=MergeStrategy.smart_merge)
    .then("finish", finish)
)


@dataclass
class Inner(Score):
    steps: list[str] = field(default_factory=list)


def _inner(name: str) -> Any:
    def note(score: Inner) -> None:
        _ran(name)
        score.steps.append(name)

    return note


inner = Cadence("inner", Inner()).then("i1", _inner("i1")).then("i2", _inner("i2")).then("i3", _inner("i3"))


def merge_inner(score: Parts, child: Inner) -> None:
    score.c = len(child.steps)


nested = (
    Cadence("nested", Parts()).then("first", first).child("sub", inner, merge_inner).then("finish", finish)
)
