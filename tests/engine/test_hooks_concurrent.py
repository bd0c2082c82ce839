"""One instance of each built-in hook serving many runs at once: 200 runs in one event loop, and
8 threads × 25 ``run_sync``, through ``.then``/``.sync``/``.split``/``.child``.

Each run does something that depends on its input (the branch it takes, how often a note in its
child cadence is retried, whether it fails), so every per-run record, log line and debug line can
be checked against exactly what its own run did.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    Cadence,
    CadenceHooks,
    DebugHooks,
    LoggingHooks,
    MetricsHooks,
    NoteError,
    Score,
    TimingHooks,
    retry,
)
from cadence.hooks import RunCounts, current_run_id

N_RUNS = 200
THREADS = 8
KEEP_FEW = 50


@dataclass
class Job(Score):
    n: int = 0
    a: int = 0
    b: int = 0
    tries: int = 0


# ---------------------------------------------------------------------------- what run n does


def fails(n: int) -> bool:
    return n % 10 == 7


def retries_of(n: int) -> int:
    return n % 3  # failed attempts of `flaky` before it succeeds (3 attempts allowed)


def branch_of(n: int) -> list[str]:
    return ["even"] if n % 2 == 0 else ["odd_a", "odd_b"]


def notes_of(n: int) -> list[str]:
    return ["prepare", "left", "right", *branch_of(n), "flaky", "finish"]


NODE = {
    "prepare": "flow/prepare",
    "left": "flow/fan/left",
    "right": "flow/fan/right",
    "even": "flow/route/true/even",
    "odd_a": "flow/route/false/odd_a",
    "odd_b": "flow/route/false/odd_b",
    "flaky": "flow/sub/flaky",
    "finish": "flow/finish",
}


def expected_counts(n: int) -> RunCounts:
    return RunCounts(
        calls=dict.fromkeys(notes_of(n), 1),
        errors={"finish": 1} if fails(n) else {},
        retries={"flaky": retries_of(n)} if retries_of(n) else {},
        runs={"flow": 1, "inner": 1},
        failed_runs={"flow": 1} if fails(n) else {},
    )


def expected_counts_at_finish(n: int) -> RunCounts:
    """What a run has counted when its ``finish`` note starts: its child cadence has ended."""
    return RunCounts(
        calls=dict.fromkeys(notes_of(n)[:-1], 1),
        retries={"flaky": retries_of(n)} if retries_of(n) else {},
        runs={"inner": 1},
    )


def expected_timing_counts(n: int) -> dict[str, int]:
    return {**dict.fromkeys(notes_of(n), 1), "flow": 1, "inner": 1}


def expected_log_lines(n: int) -> list[tuple[str, str, str, str]]:
    """``(level, depth, node id, text)`` of run n's log lines, durations shown as ``X``."""

    def note(name: str, depth: str = "0") -> list[tuple[str, str, str, str]]:
        return [
            ("INFO", depth, NODE[name], f"note {name} started"),
            ("INFO", depth, NODE[name], f"note {name} finished in X ms"),
        ]

    lines = [("INFO", "0", "flow", "cadence flow started"), *note("prepare"), *note("left"), *note("right")]
    for name in branch_of(n):
        lines += note(name)
    lines.append(("INFO", "1", "flow/sub", "cadence inner started"))
    lines.append(("INFO", "1", "flow/sub/flaky", "note flaky started"))
    for attempt in range(1, retries_of(n) + 1):
        lines.append(
            ("WARNING", "1", "flow/sub/flaky", f"note flaky attempt {attempt}/3 failed: try {attempt}")
        )
    lines.append(("INFO", "1", "flow/sub/flaky", "note flaky finished in X ms"))
    lines.append(("INFO", "1", "flow/sub", "cadence inner finished in X ms"))
    lines.append(("INFO", "0", "flow/finish", "note finish started"))
    if fails(n):
        lines.append(("ERROR", "0", "flow/finish", f"note finish failed: finish {n}"))
        lines.append(
            (
                "WARNING",
                "0",
                "flow",
                "cadence flow failed after X ms: "
                f"[NOTE_ERROR] note 'finish' failed: RuntimeError: finish {n}",
            )
        )
    else:
        lines.append(("INFO", "0", "flow/finish", "note finish finished in X ms"))
        lines.append(("INFO", "0", "flow", "cadence flow finished in X ms"))
    return lines


# ---------------------------------------------------------------------------- the cadence and its hooks


class PythonStream(io.StringIO):
    """A text stream written by Python code (as many wrappers and captures are): a thread may be
    switched out between two writes, so output written in several pieces can interleave."""

    def write(self, text: str) -> int:
        written = 0
        for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
            written += super().write(piece)
        return written


@dataclass
class Observers:
    """One instance of each hook, shared by every run, and what the notes saw."""

    log_out: io.StringIO
    logging: LoggingHooks
    timing: TimingHooks
    metrics: MetricsHooks
    debug_out: io.StringIO
    debug: DebugHooks
    few: TimingHooks = field(default_factory=lambda: TimingHooks(keep_runs=KEEP_FEW))
    open_only: MetricsHooks = field(default_factory=lambda: MetricsHooks(keep_runs=0))
    ids: dict[int, str] = field(default_factory=dict)  # input -> run id (seen by its notes)
    at_finish: dict[int, RunCounts | None] = field(default_factory=dict)

    @property
    def hooks(self) -> list[CadenceHooks]:
        return [self.logging, self.timing, self.metrics, self.debug, self.few, self.open_only]


@pytest.fixture
def observers() -> Iterator[Observers]:
    logger = logging.getLogger("tests.hooks.concurrent")
    log_out = PythonStream()
    handler = logging.StreamHandler(log_out)
    handler.setFormatter(logging.Formatter("%(levelname)s|%(cadence_run_id)s|%(cadence_depth)s|%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    debug_out = PythonStream()
    try:
        yield Observers(
            log_out=log_out,
            logging=LoggingHooks(logger),
            timing=TimingHooks(),
            metrics=MetricsHooks(),
            debug_out=debug_out,
            debug=DebugHooks(debug_out, run_id_length=None),
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


class Gate:
    """Holds every run in its first note until all have started, so all are in flight at once."""

    def __init__(self, size: int, metrics: MetricsHooks) -> None:
        self.size = size
        self.metrics = metrics
        self.arrived = 0
        self.opened = asyncio.Event()
        self.in_flight_when_open = -1

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.size:
            self.in_flight_when_open = self.metrics.in_flight
            self.opened.set()
        await self.opened.wait()


def build(obs: Observers, gate: Gate | None = None) -> Cadence[Job]:
    async def prepare(job: Job) -> None:
        run_id = current_run_id()
        assert run_id is not None
        obs.ids[job.n] = run_id
        if gate is not None:
            await gate.wait()
        await asyncio.sleep(0)

    async def left(job: Job) -> None:
        await asyncio.sleep(0)
        job.a = job.n * 2

    def right(job: Job) -> None:  # sync: runs in the engine's thread pool
        job.b = job.n * 3

    def is_even(job: Job) -> bool:
        return job.n % 2 == 0

    async def even(job: Job) -> None:
        await asyncio.sleep(0)

    def odd_a(job: Job) -> None:
        pass

    async def odd_b(job: Job) -> None:
        await asyncio.sleep(0)

    @retry(3, delay=0, jitter=False)
    async def flaky(job: Job) -> None:
        job.tries += 1
        await asyncio.sleep(0)
        if job.tries <= retries_of(job.n):
            raise ValueError(f"try {job.tries}")

    def finish(job: Job) -> None:
        run_id = current_run_id()
        assert run_id is not None
        # keep_runs=0: a run's record exists only while the run is open. The child cadence has
        # ended by now; it must not have closed this run.
        obs.at_finish[job.n] = obs.open_only.of_run(run_id)
        if fails(job.n):
            raise RuntimeError(f"finish {job.n}")

    def merge(parent: Job, child: Job) -> None:
        parent.tries = child.tries

    inner = Cadence("inner", Job()).then("flaky", flaky)
    return (
        Cadence("flow", Job())
        .then("prepare", prepare)
        .sync("fan", [left, right])
        .split("route", is_even, even, [odd_a, odd_b])
        .child("sub", inner, merge, score=lambda p: Job(n=p.n))
        .then("finish", finish)
        .with_hooks(obs.hooks)
    )


# ---------------------------------------------------------------------------- checks


LOG_LINE = re.compile(r"(INFO|WARNING|ERROR)\|([0-9a-f]{24})\|(\d)\|\[([0-9a-f]{8}) (\S+)\] (.+)")
DEBUG_LINE = re.compile(
    r"\[cadence ([0-9a-f]{24})\] ([→←]) (\w+)(.*): Job\(n=(\d+), a=\d+, b=\d+, tries=\d\)"
)


def check_run_results(obs: Observers, results: dict[int, Job | BaseException]) -> None:
    assert sorted(results) == list(range(N_RUNS))
    for n, result in results.items():
        if fails(n):
            assert isinstance(result, NoteError)
            assert str(result.original_error) == f"finish {n}"
        else:
            assert isinstance(result, Job)
            assert (result.n, result.a, result.b, result.tries) == (n, 2 * n, 3 * n, retries_of(n) + 1)
    assert sorted(obs.ids) == list(range(N_RUNS))
    assert len(set(obs.ids.values())) == N_RUNS


def check_metrics(obs: Observers) -> None:
    runs = range(N_RUNS)
    metrics = obs.metrics
    assert dict(metrics.calls) == Counter(name for n in runs for name in notes_of(n))
    assert dict(metrics.errors) == {"finish": sum(map(fails, runs))}
    assert dict(metrics.retries) == {"flaky": sum(map(retries_of, runs))}
    assert dict(metrics.runs) == {"flow": N_RUNS, "inner": N_RUNS}
    assert dict(metrics.failed_runs) == {"flow": sum(map(fails, runs))}
    for n in runs:
        assert metrics.of_run(obs.ids[n]) == expected_counts(n), n
        assert obs.at_finish[n] == expected_counts_at_finish(n), n
    recent = metrics.recent_runs
    assert set(recent) == set(obs.ids.values())
    assert all(recent[obs.ids[n]] == expected_counts(n) for n in runs)
    assert obs.open_only.recent_runs == {}
    assert obs.open_only.of_run(obs.ids[0]) is None
    assert metrics.in_flight == obs.open_only.in_flight == 0


def check_timing(obs: Observers) -> None:
    runs = range(N_RUNS)
    timing = obs.timing
    records = {n: timing.of_run(obs.ids[n]) for n in runs}
    per_name: dict[str, list[float]] = defaultdict(list)
    for n, record in records.items():
        assert record is not None
        assert {name: len(d) for name, d in record.items()} == expected_timing_counts(n), n
        for name, durations in record.items():
            assert all(isinstance(d, float) and d >= 0 for d in durations)
            per_name[name] += durations
    # the runs' records add up to the cross-run durations, exactly
    assert {name: sorted(d) for name, d in timing.timings.items()} == {
        name: sorted(d) for name, d in per_name.items()
    }
    summary = timing.summary()
    assert {name: s["count"] for name, s in summary.items()} == {name: len(d) for name, d in per_name.items()}
    assert summary["flow"]["total"] == pytest.approx(sum(per_name["flow"]))
    assert len(timing.recent_runs) == N_RUNS
    assert timing.in_flight == 0
    # keep_runs=KEEP_FEW: the last KEEP_FEW finished runs are kept, whole; the others are gone
    few = obs.few.recent_runs
    assert len(few) == KEEP_FEW
    assert set(few) <= set(obs.ids.values())
    for n in runs:
        kept = obs.few.of_run(obs.ids[n])
        if obs.ids[n] in few:
            assert kept == records[n] == few[obs.ids[n]]
        else:
            assert kept is None
    assert obs.few.in_flight == 0


def check_logs(obs: Observers) -> None:
    by_run: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    lines = obs.log_out.getvalue().splitlines()
    for line in lines:
        match = LOG_LINE.fullmatch(line)
        assert match is not None, line
        level, run_id, depth, short, node_id, text = match.groups()
        assert run_id.startswith(short)
        by_run[run_id].append((level, depth, node_id, re.sub(r"\d+\.\d ms", "X ms", text)))
    assert set(by_run) == set(obs.ids.values())
    for n, run_id in obs.ids.items():
        expected = expected_log_lines(n)
        got = by_run[run_id]
        # in one run only the two tasks of the `.sync` group may interleave
        in_fan = [line for line in got if line[2].startswith("flow/fan/")]
        assert [line for line in got if line not in in_fan] == [
            line for line in expected if not line[2].startswith("flow/fan/")
        ], n
        assert sorted(in_fan) == sorted(line for line in expected if line[2].startswith("flow/fan/")), n
    assert len(lines) == sum(len(expected_log_lines(n)) for n in range(N_RUNS))


def check_debug(obs: Observers) -> None:
    by_run: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for line in obs.debug_out.getvalue().splitlines():
        match = DEBUG_LINE.fullmatch(line)
        assert match is not None, line  # whole lines only: nothing of another run mixed in
        run_id, arrow, name, outcome, n = match.groups()
        assert obs.ids[int(n)] == run_id, line  # the score printed is this run's
        by_run[run_id].append((arrow, name, outcome))
    assert set(by_run) == set(obs.ids.values())
    for n, run_id in obs.ids.items():
        got = by_run[run_id]
        assert Counter((arrow, name) for arrow, name, _ in got) == Counter(
            (arrow, name) for name in notes_of(n) for arrow in "→←"
        )
        failed = [name for arrow, name, outcome in got if outcome.startswith(" (failed:")]
        assert failed == (["finish"] if fails(n) else [])


def check_all(obs: Observers, results: dict[int, Job | BaseException]) -> None:
    check_run_results(obs, results)
    check_metrics(obs)
    check_timing(obs)
    check_logs(obs)
    check_debug(obs)


# ---------------------------------------------------------------------------- the runs


async def test_one_set_of_hooks_serves_200_concurrent_runs(observers: Observers) -> None:
    """200 runs at once on one cadence (all in flight together): every hook's totals are exact,
    each run's record, log lines and debug lines are exactly its own."""
    gate = Gate(N_RUNS, observers.metrics)
    flow = build(observers, gate)
    outcomes = await asyncio.gather(*(flow.run(Job(n=n)) for n in range(N_RUNS)), return_exceptions=True)
    assert gate.in_flight_when_open == N_RUNS
    check_all(observers, dict(enumerate(outcomes)))


def test_one_set_of_hooks_serves_runs_from_several_threads(observers: Observers) -> None:
    """8 threads each calling ``run_sync`` 25 times on one cadence: the same exact results."""
    flow = build(observers)
    start = threading.Barrier(THREADS)
    results: dict[int, Job | BaseException] = {}

    def worker(first: int) -> None:
        start.wait()
        for n in range(first, N_RUNS, THREADS):
            try:
                results[n] = flow.run_sync(Job(n=n))
            except NoteError as error:
                results[n] = error

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch very often: any unguarded write would interleave
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for future in [pool.submit(worker, t) for t in range(THREADS)]:
                future.result()
    finally:
        sys.setswitchinterval(switch)
    check_all(observers, results)


# ---------------------------------------------------------------------------- per-run records


def one_note_flow(*hooks: Any) -> Cadence[Job]:
    return Cadence("flow", Job()).then("a", lambda j: None).with_hooks(list(hooks))


async def test_keep_runs_keeps_the_last_finished_runs_in_order() -> None:
    """Only the last ``keep_runs`` finished runs are kept, oldest first; older ones are dropped."""
    timing, metrics = TimingHooks(keep_runs=3), MetricsHooks(keep_runs=3)
    ids: list[str | None] = []
    flow = one_note_flow(timing, metrics).then("id", lambda j: ids.append(current_run_id()))
    for _ in range(10):
        await flow.run(Job())
    assert list(timing.recent_runs) == list(metrics.recent_runs) == ids[-3:]
    assert timing.of_run(str(ids[0])) is None
    assert metrics.of_run(str(ids[0])) is None
    assert metrics.of_run(str(ids[-1])) == RunCounts(calls={"a": 1, "id": 1}, runs={"flow": 1})
    assert dict(metrics.calls) == {"a": 10, "id": 10}
    assert timing.summary()["flow"]["count"] == 10


@pytest.mark.parametrize("keep", [-1, 1.5, True])
def test_keep_runs_must_be_a_non_negative_int(keep: Any) -> None:
    with pytest.raises(ValueError, match="keep_runs"):
        TimingHooks(keep_runs=keep)
    with pytest.raises(ValueError, match="keep_runs"):
        MetricsHooks(keep_runs=keep)


async def test_timings_keep_the_latest_samples_and_the_summary_counts_all() -> None:
    """``max_samples`` bounds ``timings[name]`` to the newest durations; ``summary()`` counts all."""
    timing = TimingHooks(max_samples=10)
    flow = one_note_flow(timing)
    ids: list[str | None] = []
    flow.then("id", lambda j: ids.append(current_run_id()))
    for _ in range(40):
        await flow.run(Job())
    every = [d for run_id in ids for d in (timing.of_run(str(run_id)) or {})["a"]]
    assert len(every) == 40
    assert 10 <= len(timing.timings["a"]) <= 11
    assert timing.timings["a"] == every[-len(timing.timings["a"]) :]
    summary = timing.summary()["a"]
    assert summary["count"] == 40
    assert summary["total"] == pytest.approx(sum(every))
    assert summary["max"] == max(every)
    timing.clear()
    assert (timing.summary(), dict(timing.timings), timing.recent_runs) == ({}, {}, {})
    with pytest.raises(ValueError, match="max_samples"):
        TimingHooks(max_samples=0)


async def test_a_hook_on_a_child_cadence_only_keeps_one_record_per_run() -> None:
    """A hook attached to a child cadence used twice in a run: one record for the run (reopened
    for the second use), under the parent's run id."""
    metrics = MetricsHooks()
    parent_ids: list[str | None] = []
    child = Cadence("inner", Job()).then("x", lambda j: None).with_hooks(metrics)
    flow = (
        Cadence("flow", Job())
        .then("id", lambda j: parent_ids.append(current_run_id()))
        .child("one", child, lambda p, c: None)
        .child("two", child, lambda p, c: None)
        .with_reporter(lambda *a: None)  # the parent is observed: its run id is shared
    )
    await asyncio.gather(flow.run(Job()), flow.run(Job()))
    assert set(metrics.recent_runs) == set(parent_ids)
    assert len(parent_ids) == 2
    for run_id in parent_ids:
        assert metrics.of_run(str(run_id)) == RunCounts(calls={"x": 2}, runs={"inner": 2})
    assert metrics.in_flight == 0


async def test_a_subclass_that_raises_does_not_leave_its_run_open(caplog: pytest.LogCaptureFixture) -> None:
    """A subclass raising disables the hook for the run; the run is still closed, never leaked."""

    class Faulty(MetricsHooks):
        def before_note(self, name: str, score: Any) -> None:
            raise RuntimeError("bug in a subclass")

    faulty = Faulty()
    flow = one_note_flow(faulty).child(
        "sub", Cadence("inner", Job()).then("b", lambda j: None), lambda p, c: None
    )
    await asyncio.gather(*(flow.run(Job()) for _ in range(5)))
    assert faulty.in_flight == 0
    assert len(faulty.recent_runs) == 5
    assert all(counts == RunCounts() for counts in faulty.recent_runs.values())
    assert len([r for r in caplog.records if r.name == "cadence.hooks"]) == 5


# ---------------------------------------------------------------------------- lines


def test_methods_called_outside_a_run_still_work(caplog: pytest.LogCaptureFixture) -> None:
    """Called directly (no run), the hooks log, print and count as before, with no run id."""
    caplog.set_level(logging.INFO, logger="cadence")
    LoggingHooks().before_note("x", None)
    assert [r.getMessage() for r in caplog.records] == ["[- x] note x started"]
    assert caplog.records[0].cadence_run_id is None  # type: ignore[attr-defined]
    out = io.StringIO()
    DebugHooks(out).before_note("x", 1)
    assert out.getvalue() == "[cadence] → x: 1\n"
    timing, metrics = TimingHooks(), MetricsHooks()
    timing.after_note("x", None, 0.5)
    metrics.after_note("x", None, 0.5)
    assert (dict(timing.timings), dict(metrics.calls), timing.recent_runs) == ({"x": [0.5]}, {"x": 1}, {})


class Multiline:
    def __repr__(self) -> str:
        return "first\nsecond"


async def test_debug_hooks_prefix_every_line_of_a_multiline_score() -> None:
    """Each physical line of a multi-line ``repr`` carries the run id too (short by default)."""
    out = io.StringIO()
    ids: list[str | None] = []
    flow = (
        Cadence("flow", Multiline())
        .then("a", lambda s: ids.append(current_run_id()))
        .with_hooks(DebugHooks(out))
    )
    await flow.run()
    short = str(ids[0])[:8]
    lines = out.getvalue().splitlines()
    assert lines[:2] == [f"[cadence {short}] → a: first", f"[cadence {short}] second"]
    assert re.fullmatch(rf"\[cadence {short}\] ← a \(\d+\.\d\d ms\): first", lines[2])
    assert lines[3] == f"[cadence {short}] second"


async def test_logging_hooks_name_the_run_and_node_of_each_line(caplog: pytest.LogCaptureFixture) -> None:
    """Records carry the whole run id, the node id and the depth; the message shows the short id."""
    caplog.set_level(logging.INFO, logger="cadence")
    ids: list[str | None] = []
    child = Cadence("inner", Job()).then("x", lambda j: ids.append(current_run_id()))
    await Cadence("flow", Job()).child("sub", child, lambda p, c: None).with_hooks(LoggingHooks()).run()
    records = [r for r in caplog.records if r.name == "cadence"]
    short = str(ids[0])[:8]
    assert [re.sub(r"\d+\.\d ms", "X ms", r.getMessage()) for r in records] == [
        f"[{short} flow] cadence flow started",
        f"[{short} flow/sub] cadence inner started",
        f"[{short} flow/sub/x] note x started",
        f"[{short} flow/sub/x] note x finished in X ms",
        f"[{short} flow/sub] cadence inner finished in X ms",
        f"[{short} flow] cadence flow finished in X ms",
    ]
    run_id = ids[0]
    assert {r.cadence_run_id for r in records} == {run_id}  # type: ignore[attr-defined]
    assert [r.cadence_depth for r in records] == [0, 1, 1, 1, 1, 0]  # type: ignore[attr-defined]
    assert records[2].cadence_node_id == "flow/sub/x"  # type: ignore[attr-defined]
