"""Engine overhead benchmark: each workload timed against the same work done with plain asyncio.

Run with ``make bench`` (or ``.venv/bin/python bench/engine.py``). This is not a test: it prints one
table and exits 0, unless ``--strict`` is given (then it exits 1 when any workload misses its target).

Method: everything runs inside one event loop; each side is warmed up, then timed in batches with
``time.perf_counter_ns``; engine and plain batches are interleaved (alternating which goes first) so
machine noise hits both, and the median batch of each side is compared. The garbage collector is
paused while a batch runs (as ``timeit`` does) and a collection runs between batches.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cadence import Cadence, Score, retry

Work = Callable[[], Awaitable[None]]
# `import cadence` needs asyncio; everything else it loads may add at most half as much again.
IMPORT_TARGET_RATIO = 1.5
NoteFn = Callable[[Any], Any]


# ---------------------------------------------------------------------------- scores and notes


@dataclass
class Counter(Score):
    x: int = 0


@dataclass
class Wide(Score):
    """Ten fields, one per parallel note."""

    f0: int = 0
    f1: int = 0
    f2: int = 0
    f3: int = 0
    f4: int = 0
    f5: int = 0
    f6: int = 0
    f7: int = 0
    f8: int = 0
    f9: int = 0


@dataclass
class WideAndBig(Wide):
    """``Wide`` plus a lot of data that no note touches."""

    big_list: list[int] = field(default_factory=list)
    big_dict: dict[str, int] = field(default_factory=dict)


@dataclass
class Parent(Score):
    x: int = 0
    y: int = 0
    result: int = 0


@dataclass
class Child(Score):
    a: int = 0
    b: int = 0


def async_incrementers(n: int) -> list[NoteFn]:
    """``n`` distinct ``async def`` notes, each adding one to ``score.x``."""

    def make(i: int) -> NoteFn:
        async def step(score: Any) -> None:
            score.x += 1

        step.__name__ = step.__qualname__ = f"async_step_{i}"
        return step

    return [make(i) for i in range(n)]


def sync_incrementers(n: int) -> list[NoteFn]:
    """``n`` distinct ``def`` notes, each adding one to ``score.x``."""

    def make(i: int) -> NoteFn:
        def step(score: Any) -> None:
            score.x += 1

        step.__name__ = step.__qualname__ = f"sync_step_{i}"
        return step

    return [make(i) for i in range(n)]


def field_writers() -> list[NoteFn]:
    """Ten ``async def`` notes; note ``i`` adds one to field ``f{i}`` (so every run changes it)."""

    def make(i: int) -> NoteFn:
        name = f"f{i}"

        async def write(score: Any) -> None:
            setattr(score, name, getattr(score, name) + 1)

        write.__name__ = write.__qualname__ = f"write_{name}"
        return write

    return [make(i) for i in range(10)]


async def prepare(score: Parent) -> None:
    score.x += 1


# The split's condition and the child's merge are ``async def``: a plain ``def`` would run in the
# shared pool (row g prices that hop), and this row measures what the measures themselves cost.
async def is_positive(score: Parent) -> bool:
    return score.x > 0


async def on_true(score: Parent) -> None:
    score.y += 1


async def on_false(score: Parent) -> None:
    score.y -= 1


async def child_first(score: Child) -> None:
    score.a = 1


async def child_second(score: Child) -> None:
    score.b = score.a + 1


async def merge_child(parent: Parent, child: Child) -> None:
    parent.result += child.b


# ---------------------------------------------------------------------------- workloads


@dataclass
class Workload:
    key: str
    label: str
    engine: Work
    plain: Work
    target: float
    plain_label: str = "plain"
    unit: int = 1  # how many "runs" one call of ``engine``/``plain`` does (for per-run times)
    per: str = "run"
    batch: int = 0  # calls per timed batch, set by calibration
    #: A third side printed beside the row (not part of its ratio): its label and its work.
    also: tuple[str, Work] | None = None
    also_ns: float = 0.0


def sequential_async() -> Workload:
    fns = async_incrementers(100)
    cad: Cadence[Counter] = Cadence("seq_async", Counter())
    for i, fn in enumerate(fns):
        cad.then(f"n{i}", fn)
    s_engine, s_plain = Counter(), Counter()

    async def engine() -> None:
        await cad.run(s_engine)

    async def plain() -> None:
        for fn in fns:
            await fn(s_plain)

    return Workload("a", "100 async .then notes", engine, plain, 3.0)


def sync_offloaded() -> Workload:
    """A plain ``def`` note in ``.then`` runs in the shared pool: priced against the same hop in raw
    asyncio (``loop.run_in_executor``), with the plain call (on the loop thread) printed beside."""
    fns = sync_incrementers(100)
    cad: Cadence[Counter] = Cadence("def_notes", Counter())
    for i, fn in enumerate(fns):
        cad.then(f"n{i}", fn)
    s_engine, s_plain, s_call = Counter(), Counter(), Counter()

    async def engine() -> None:
        await cad.run(s_engine)

    async def plain() -> None:
        loop = asyncio.get_running_loop()
        for fn in fns:
            await loop.run_in_executor(None, fn, s_plain)

    async def call() -> None:
        for fn in fns:
            fn(s_call)

    label = "µs per plain def note in .then"
    return Workload(
        "g", label, engine, plain, 1.5, "run_in_executor", unit=100, per="note", also=("plain call", call)
    )


def parallel(score_engine: Wide, score_plain: Wide) -> tuple[Work, Work]:
    writers = field_writers()
    cad: Cadence[Wide] = Cadence("fan_out", score_engine).sync("ten", writers)

    async def engine() -> None:
        await cad.run(score_engine)

    async def plain() -> None:
        await asyncio.gather(*(w(score_plain) for w in writers))

    return engine, plain


def parallel_small() -> Workload:
    engine, plain = parallel(Wide(), Wide())
    return Workload("c", ".sync of 10 async notes", engine, plain, 1.5, plain_label="gather")


def parallel_big(small_engine: Work) -> Workload:
    big = WideAndBig(big_list=list(range(1_000_000)), big_dict={f"k{i}": i for i in range(100_000)})
    engine, _ = parallel(big, WideAndBig())
    label = "(c) + 1M list, 100k dict untouched"
    return Workload("d", label, engine, small_engine, 1.2, plain_label="(c) engine")


def then_split_child() -> Workload:
    child: Cadence[Child] = Cadence("child", Child()).then("first", child_first).then("second", child_second)
    cad: Cadence[Parent] = (
        Cadence("parent", Parent())
        .then("prepare", prepare)
        .split("positive?", is_positive, on_true, on_false)
        .child("nested", child, merge_child)
    )
    s_engine, s_plain = Parent(), Parent()
    runs = 1000

    async def engine() -> None:
        for _ in range(runs):
            await cad.run(s_engine)

    async def plain() -> None:
        for _ in range(runs):
            s = s_plain
            await prepare(s)
            if await is_positive(s):
                await on_true(s)
            else:
                await on_false(s)
            c = Child()
            await child_first(c)
            await child_second(c)
            await merge_child(s, c)

    return Workload("e", "then→split→child(2 notes) ×1000", engine, plain, 4.0, unit=runs)


def retried() -> Workload:
    fns = async_incrementers(100)
    cad: Cadence[Counter] = Cadence("retried", Counter())
    for i, fn in enumerate(fns):
        cad.then(f"n{i}", retry(3)(fn))
    s_engine, s_plain = Counter(), Counter()

    async def engine() -> None:
        await cad.run(s_engine)

    async def plain() -> None:
        for fn in fns:
            await fn(s_plain)

    return Workload("f", "100 @retry notes, never failing", engine, plain, 4.0)


# ---------------------------------------------------------------------------- timing


async def time_batch(work: Work, n: int) -> int:
    """Nanoseconds for ``n`` calls of ``work``, with the collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(n):
            await work()
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


async def calibrate(w: Workload, batch_ns: int) -> None:
    """Warm both sides up and pick a batch size whose engine batch takes about ``batch_ns``."""
    for _ in range(3):
        await w.engine()
        await w.plain()
    n = 1
    while True:
        took = await time_batch(w.engine, n)
        if took >= batch_ns // 4 or n >= 1 << 16:
            break
        n *= 2
    w.batch = max(1, round(n * batch_ns / max(took, 1)))


async def measure(w: Workload, repeats: int) -> tuple[float, float]:
    """Median ns per call of each side, engine and plain batches interleaved."""
    engine_ns: list[float] = []
    plain_ns: list[float] = []
    also_ns: list[float] = []
    for r in range(repeats):
        order = ((w.engine, engine_ns), (w.plain, plain_ns))
        for work, out in order if r % 2 == 0 else reversed(order):
            out.append(await time_batch(work, w.batch) / w.batch)
        if w.also is not None:
            also_ns.append(await time_batch(w.also[1], w.batch) / w.batch)
    if also_ns:
        w.also_ns = statistics.median(also_ns)
    return statistics.median(engine_ns), statistics.median(plain_ns)


class ImportFailed(Exception):
    """``import`` failed in the child interpreter; the message is its last line of stderr."""


def _import_ms(module: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise ImportFailed(f"import {module} failed: {lines[-1]}")
    return float(done.stdout.strip()) * 1000


def import_times_ms(runs: int, *, bytecode: bool) -> tuple[float, float]:
    """Median ms of ``import cadence`` and of ``import asyncio`` (its floor), each in a fresh interpreter.

    With ``bytecode`` the interpreters share a private bytecode cache (primed by one untimed run), as
    an installed package would have; without it every module is compiled from source on each import
    (what ``PYTHONDONTWRITEBYTECODE`` does when no cache exists yet).
    """
    with tempfile.TemporaryDirectory(prefix="cadence-bench-pyc-") as cache:
        env = dict(os.environ)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            _import_ms("cadence", env)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        engine: list[float] = []
        floor: list[float] = []
        for _ in range(runs):
            engine.append(_import_ms("cadence", env))
            floor.append(_import_ms("asyncio", env))
    return statistics.median(engine), statistics.median(floor)


# ---------------------------------------------------------------------------- report


def fmt_time(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def print_table(rows: list[tuple[str, str, str, str, str, str]]) -> None:
    header = ("workload", "engine", "plain", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    aligns = ("<", ">", ">", ">", ">", "<")

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths, strict=True)).rstrip()

    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


@dataclass
class Outcome:
    workload: Workload
    engine_ns: float = 0.0
    plain_ns: float = 0.0
    error: str = ""


async def run_all(repeats: int, batch_ns: int, only: set[str] | None) -> list[Outcome]:
    small = parallel_small()
    factories: list[tuple[str, Callable[[], Workload]]] = [
        ("a", sequential_async),
        ("c", lambda: small),
        ("d", lambda: parallel_big(small.engine)),
        ("e", then_split_child),
        ("f", retried),
        ("g", sync_offloaded),
    ]
    outcomes = []
    for key, make in factories:
        if only is not None and key not in only:
            continue
        w = make()
        try:
            await calibrate(w, batch_ns)
            engine_ns, plain_ns = await measure(w, repeats)
        except Exception as error:  # a broken engine gets a row, not a traceback
            outcomes.append(Outcome(w, error=f"({key}) failed: {type(error).__name__}: {error}"))
        else:
            outcomes.append(Outcome(w, engine_ns, plain_ns))
        del w
        gc.collect()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats (a rough look)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any workload misses its target")
    parser.add_argument("--only", help="comma-separated workload keys to run, e.g. a,c,d (and 'import')")
    args = parser.parse_args(argv)
    repeats, batch_ns, import_runs = (9, 2_000_000, 3) if args.quick else (41, 6_000_000, 9)
    only = set(args.only.split(",")) if args.only else None

    started = time.perf_counter()
    outcomes = asyncio.run(run_all(repeats, batch_ns, only))
    rows: list[tuple[str, str, str, str, str, str]] = []
    missed = []
    notes: list[str] = []
    for o in outcomes:
        w = o.workload
        label, target = f"({w.key}) {w.label}", f"≤ {w.target:g}×"
        if o.error:
            missed.append(w.key)
            notes.append(o.error)
            rows.append((label, "error", "", "", target, "MISS"))
            continue
        ratio = o.engine_ns / o.plain_ns
        ok = ratio <= w.target
        if not ok:
            missed.append(w.key)
        per_run = f" ({fmt_time(o.engine_ns / w.unit)}/{w.per})" if w.unit > 1 else ""
        plain = fmt_time(o.plain_ns)
        if w.also is not None:
            notes.append(
                f"({w.key}) per {w.per}: engine {fmt_time(o.engine_ns / w.unit)}, {w.plain_label} "
                f"{fmt_time(o.plain_ns / w.unit)}, {w.also[0]} {fmt_time(w.also_ns / w.unit)} "
                f"(target: engine ≤ {w.target:g}× {w.plain_label})"
            )
        rows.append(
            (
                label,
                fmt_time(o.engine_ns) + per_run,
                plain if w.plain_label == "plain" else f"{plain} {w.plain_label}",
                f"{ratio:.2f}×",
                target,
                "PASS" if ok else "MISS",
            )
        )
    if only is None or "import" in only:
        try:
            ms, floor = import_times_ms(import_runs, bytecode=True)
            cold, cold_floor = import_times_ms(max(1, import_runs // 2), bytecode=False)
        except ImportFailed as failed:
            missed.append("import")
            rows.append(
                ("import cadence (fresh process)", "error", "", "", f"≤ {IMPORT_TARGET_RATIO}×", "MISS")
            )
            notes.append(str(failed))
        else:
            ok = ms <= IMPORT_TARGET_RATIO * floor
            if not ok:
                missed.append("import")
            rows.append(
                (
                    "import cadence (fresh process)",
                    f"{ms:.1f} ms",
                    f"{floor:.1f} ms asyncio",
                    f"{ms / floor:.2f}×",
                    f"≤ {IMPORT_TARGET_RATIO}×",
                    "PASS" if ok else "MISS",
                )
            )
            notes.append(
                f"import is timed with a bytecode cache; compiling from source it takes {cold:.1f} ms "
                f"(import asyncio: {cold_floor:.1f} ms)."
            )

    mode = "quick" if args.quick else "full"
    print(f"cadence engine overhead vs plain asyncio ({mode}: {repeats} interleaved repeats, median batch)")
    print_table(rows)
    for note in notes:
        print(note)
    summary = f"missed: {', '.join(missed)}" if missed else "all targets met"
    print(f"{summary}  ({time.perf_counter() - started:.1f} s, Python {sys.version.split()[0]})")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
