"""Checkpoint costs: µs per checkpoint with SQLiteCheckpointStore, beside the same write in plain sqlite3.

Run with ``make bench`` (or ``.venv/bin/python bench/durable.py``). Not a test: it prints one table and
exits 0, unless ``--strict`` is given (then 1 when a row misses its target).

Rows, each measured in one process, the two sides interleaved (median of the repeats):

- ``sync``/``async``/``exit`` x ``small``/``1MB``: a cadence of 20 ``async def`` notes, each changing one
  small field, run with a store; µs per checkpoint = (run with the store - the same run without) / 20.
  The plain side does what one checkpoint must write, by hand: one transaction in a WAL file with the
  same pragmas that upserts the changed field and marks the measure done, awaited on a writer thread
  (``run_in_executor``: the engine never writes on the event loop); the same write done on the loop,
  blocking it, is shown beside it. The ``1MB`` score also holds a
  1 MB string no note touches: with deltas it costs what the small score costs (the last column shows
  what rewriting the untouched field each step would cost: what peers do).
- ``no store``: the same 20-note run without a store, on this engine and on the engine before durable
  runs (``--before REV``, default the merge base with ``main``, loaded from git in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import importlib
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cadence import Cadence, Score, SQLiteCheckpointStore

ROOT = Path(__file__).resolve().parents[1]
NOTES = 20
SYNC_TARGET = 1.5
NO_STORE_TARGET = 1.1
BIG = "x" * 1_000_000


@dataclass
class Small(Score):
    n: int = 0
    name: str = "order-1"


@dataclass
class Big(Score):
    n: int = 0
    name: str = "order-1"
    blob: str = ""


def notes(count: int) -> list[Callable[[Any], Awaitable[None]]]:
    def make(i: int) -> Callable[[Any], Awaitable[None]]:
        async def step(score: Any) -> None:
            score.n += 1

        step.__name__ = step.__qualname__ = f"step_{i}"
        return step

    return [make(i) for i in range(count)]


def build(cadence_cls: Any, score: Any) -> Any:
    c = cadence_cls("bench", score)
    for i, fn in enumerate(notes(NOTES)):
        c.then(f"step_{i}", fn)
    return c


async def timed(work: Callable[[], Awaitable[Any]], repeats: int) -> float:
    """Median seconds of ``work``."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
        gc.enable()
    return statistics.median(times)


class PlainWriter:
    """A checkpoint written by hand with sqlite3: upsert the changed field, mark the measure done."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS f"
            " (run TEXT, scope TEXT, name TEXT, value TEXT, UNIQUE (run, scope, name));"
            "CREATE TABLE IF NOT EXISTS d (run TEXT, node TEXT, UNIQUE (run, node));"
        )

    def write(self, run: str, fields: dict[str, Any], node: str) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO f VALUES (?, 'bench', ?, ?)"
            " ON CONFLICT (run, scope, name) DO UPDATE SET value = excluded.value",
            [(run, k, json.dumps(v)) for k, v in fields.items()],
        )
        db.execute("INSERT OR IGNORE INTO d VALUES (?, ?)", (run, node))
        db.execute("COMMIT")


def load_before(rev: str, into: Path) -> Any:
    """The engine as it was at ``rev``, imported as the package ``cadence_before``."""
    target = into / "cadence_before"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "engine/cadence"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    shutil.move(str(into / "engine" / "cadence"), target)
    sys.path.insert(0, str(into))
    return importlib.import_module("cadence_before")


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    rows: list[tuple[str, str, str, str, str, str]] = []
    missed = 0
    try:
        store = SQLiteCheckpointStore(tmp / "engine.db")
        counter = iter(range(10**9))
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(1)  # sqlite3 connections stay on their thread
        plain = await loop.run_in_executor(pool, PlainWriter, tmp / "plain.db")
        for label, make_score in (("small", Small), ("1MB", lambda: Big(blob=BIG))):
            c = build(Cadence, make_score())
            no_store = await timed(lambda c=c, m=make_score: c.run(m()), args.repeats)  # type: ignore[misc]

            def plain_run(m: Any = make_score) -> Awaitable[None]:
                async def go() -> None:
                    run = f"p{next(counter)}"
                    score = m()
                    plain.write(run, dict(vars(score)), "start")  # the start: the whole score
                    for i in range(NOTES):
                        score.n += 1
                        plain.write(run, {"n": score.n}, f"bench/step_{i}")

                return go()

            plain_s = await timed(plain_run, args.repeats)
            plain_per = (plain_s / (NOTES + 1)) * 1e6

            def plain_off(m: Any = make_score) -> Awaitable[None]:
                async def go() -> None:  # the same writes, each awaited on one writer thread
                    run = f"o{next(counter)}"
                    score = m()
                    await loop.run_in_executor(pool, plain.write, run, dict(vars(score)), "start")
                    for i in range(NOTES):
                        score.n += 1
                        await loop.run_in_executor(pool, plain.write, run, {"n": score.n}, f"bench/step_{i}")

                return go()

            off_per = (await timed(plain_off, args.repeats)) / (NOTES + 1) * 1e6
            naive_per = 0.0
            if label == "1MB":

                async def naive() -> None:
                    run = f"n{next(counter)}"
                    score = Big(blob=BIG)
                    for i in range(NOTES):
                        score.n += 1
                        plain.write(run, vars(score), f"bench/step_{i}")  # every field, every step

                naive_per = await timed(naive, max(3, args.repeats // 3)) / NOTES * 1e6
            for mode in ("sync", "async", "exit"):

                def with_store(m: Any = make_score, mode: str = mode, c: Any = c) -> Awaitable[Any]:
                    return c.run(m(), checkpoint=store, run_id=f"e{next(counter)}", durability=mode)

                engine_s = await timed(with_store, args.repeats)
                per = (engine_s - no_store) / (NOTES + 1) * 1e6  # the start, then one per note (+ the end)
                ratio = per / off_per
                target = f"≤ {SYNC_TARGET}x" if mode == "sync" else "-"
                ok = "PASS" if mode != "sync" or ratio <= SYNC_TARGET else "MISS"
                missed += ok == "MISS"
                naive = f"{naive_per:,.0f} µs rewriting it" if naive_per else ""
                rows.append(
                    (
                        f"{mode} {label}",
                        f"{per:,.1f} µs",
                        f"{off_per:,.1f} µs ({plain_per:,.1f} on the loop: {per / plain_per:.1f}x)",
                        f"{ratio:.2f}x",
                        target,
                        f"{ok} {naive}",
                    )
                )
        before = load_before(args.before, tmp)
        new = build(Cadence, Small())
        old = build(before.Cadence, Small())
        news, olds = [], []
        for i in range(args.repeats):
            pair = [(new, news), (old, olds)] if i % 2 == 0 else [(old, olds), (new, news)]
            for c, out in pair:
                out.append(await timed(lambda c=c: c.run(Small()), 5))  # type: ignore[misc]
        ratio = statistics.median(news) / statistics.median(olds)
        ok = "PASS" if ratio <= NO_STORE_TARGET else "MISS"
        missed += ok == "MISS"
        rows.append(
            (
                "no store (20 notes)",
                f"{statistics.median(news) * 1e6:,.1f} µs",
                f"{statistics.median(olds) * 1e6:,.1f} µs (before)",
                f"{ratio:.2f}x",
                f"≤ {NO_STORE_TARGET}x",
                ok,
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    head = ("workload", "engine /ckpt", "plain sqlite3 /ckpt, off the loop", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    for r in [head, *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--strict", action="store_true")
    base = subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True, text=True, check=False
    ).stdout.strip()
    parser.add_argument("--before", default=base or "HEAD")
    sys.exit(asyncio.run(main(parser.parse_args())))
