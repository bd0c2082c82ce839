"""Cadences the checkpoint tests run, in the test process and in subprocesses they kill.

Every note appends its node name to the file named by the score's ``path`` (so a test counts how often
each ran, across processes). ``CADENCE_TEST_HANG=name`` makes that note sleep (the process is then
killed); ``FAIL`` (in process) makes the notes named in it raise.

Run as a script: ``python -m tests.engine.durable_app CADENCE DB RUN_ID LOG run|resume``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from typing import Any

from cadence import Cadence, Score, SQLiteCheckpointStore

FAIL: set[str] = set()


@dataclasses.dataclass
class Tally(Score):
    path: str = ""
    total: int = 0
    seen: list[str] = dataclasses.field(default_factory=list)
    big: str = ""


@dataclasses.dataclass
class Pay(Score):
    path: str = ""
    card: str = ""
    stock: str = ""
    mail: str = ""
    after: str = ""


@dataclasses.dataclass
class Sub(Score):
    path: str = ""
    steps: list[str] = dataclasses.field(default_factory=list)


def mark(path: str, name: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(name + "\n")
    if os.environ.get("CADENCE_TEST_HANG") == name:
        time.sleep(120)  # the test kills the process here
    if name in FAIL:
        msg = f"{name} failed on purpose"
        raise RuntimeError(msg)


def counter(name: str) -> Any:
    def note(score: Tally) -> None:
        mark(score.path, name)
        score.total += 1
        score.seen.append(name)

    note.__name__ = note.__qualname__ = name
    return note


ten: Cadence[Tally] = Cadence("ten", Tally())
for i in range(1, 11):
    ten.then(f"n{i}", counter(f"n{i}"))


def member(field: str) -> Any:
    async def note(score: Pay) -> None:
        mark(score.path, field)
        if field == "mail":
            await asyncio.sleep(0.2)  # the slowest member: the others finish first
        setattr(score, field, f"{field}-done")

    note.__name__ = note.__qualname__ = field
    return note


def prep(score: Pay) -> None:
    mark(score.path, "prep")


def after(score: Pay) -> None:
    mark(score.path, "after")
    score.after = "+".join((score.card, score.stock, score.mail))


fan: Cadence[Pay] = (
    Cadence("fan", Pay())
    .then("prep", prep)
    .sync("pay", [member("card"), member("stock"), member("mail")])
    .then("after", after)
)


def sub_step(name: str) -> Any:
    def note(score: Sub) -> None:
        mark(score.path, name)
        score.steps.append(name)

    note.__name__ = note.__qualname__ = name
    return note


inner: Cadence[Sub] = Cadence("inner", Sub())
for name in ("c1", "c2", "c3"):
    inner.then(name, sub_step(name))


def into_parent(parent: Tally, child: Sub) -> None:
    parent.seen.extend(child.steps)


outer: Cadence[Tally] = (
    Cadence("outer", Tally())
    .then("p1", counter("p1"))
    .child("sub", inner, into_parent, score=lambda parent: Sub(path=parent.path))
    .then("p2", counter("p2"))
)

CADENCES: dict[str, Cadence[Any]] = {"ten": ten, "fan": fan, "outer": outer}
SCORES: dict[str, Any] = {"ten": Tally, "fan": Pay, "outer": Tally}


def main(argv: list[str]) -> None:
    name, db, run_id, log, action = argv
    store = SQLiteCheckpointStore(db)
    definition = CADENCES[name]
    if action == "run":
        score = asyncio.run(definition.run(SCORES[name](path=log), checkpoint=store, run_id=run_id))
    else:
        score = asyncio.run(definition.resume(run_id, store))
    print(repr(score))


if __name__ == "__main__":
    main(sys.argv[1:])
