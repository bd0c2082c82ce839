"""Reporters: called after every note and once per run; the console and JSON reporters; failing reporters."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from cadence import Cadence, DefinitionError, NoteError, Score, console_reporter, json_reporter


@dataclass
class Order(Score):
    total: int = 0


def boom(order: Order) -> None:
    raise RuntimeError("boom")


def flow() -> Cadence[Order]:
    return (
        Cadence("checkout", Order())
        .then("price", lambda o: setattr(o, "total", 7))
        .sequence("steps", [lambda o: None])
        .sync("both", [lambda o: None])
    )


async def test_reporter_is_called_after_each_note_and_once_per_run() -> None:
    """``reporter(name, elapsed, score)`` runs after every note, then once with the cadence's name."""
    reports: list[tuple[str, float, Any]] = []
    order = Order()
    await flow().with_reporter(lambda name, elapsed, score: reports.append((name, elapsed, score))).run(order)
    assert [r[0] for r in reports] == ["price", "<lambda>", "<lambda>", "checkout"]
    assert all(isinstance(r[1], float) and r[1] >= 0 for r in reports)
    assert reports[0][2] is order
    assert reports[-1][2] is order
    assert reports[-1][1] >= sum(r[1] for r in reports[:-1]) - 1e-3


async def test_reporter_sees_the_real_duration() -> None:
    """The elapsed time covers the note's own work."""
    reports: dict[str, float] = {}

    async def wait(order: Order) -> None:
        await asyncio.sleep(0.02)

    await Cadence("c", Order()).then("wait", wait).with_reporter(lambda n, e, s: reports.update({n: e})).run()
    assert 0.015 <= reports["wait"] <= reports["c"]


async def test_async_reporters_are_awaited() -> None:
    """A reporter that is ``async`` (or returns a coroutine) is awaited in order."""
    reports: list[str] = []

    async def report(name: str, elapsed: float, score: Any) -> None:
        await asyncio.sleep(0)
        reports.append(name)

    await (
        Cadence("c", Order())
        .then("a", lambda o: None)
        .with_reporter(report)
        .with_reporter(lambda n, e, s: report(n.upper(), e, s))
        .run()
    )
    assert reports == ["a", "A", "c", "C"]


async def test_reporter_runs_for_a_failing_note_and_run() -> None:
    """A failing note and the failed run are still reported, then the error is raised."""
    reports: list[str] = []
    with pytest.raises(NoteError):
        await Cadence("c", Order()).then("boom", boom).with_reporter(lambda n, e, s: reports.append(n)).run()
    assert reports == ["boom", "c"]


async def test_raising_reporter_does_not_change_the_outcome(caplog: pytest.LogCaptureFixture) -> None:
    """A raising reporter is logged once, disabled for that run only, and the run's result is unchanged."""
    calls: list[str] = []

    def broken(name: str, elapsed: float, score: Any) -> None:
        calls.append(name)
        raise ValueError("reporter bug")

    good: list[str] = []
    c = flow().with_reporter(broken).with_reporter(lambda n, e, s: good.append(n))
    order = await c.run()
    assert order.total == 7
    assert calls == ["price"]
    assert good == ["price", "<lambda>", "<lambda>", "checkout"]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    await c.run()
    assert calls == ["price", "price"]


async def test_raising_reporter_on_a_failing_run_keeps_the_error() -> None:
    """A reporter raising while a note fails leaves the note's error as the one raised."""

    def broken(name: str, elapsed: float, score: Any) -> None:
        raise ValueError("reporter bug")

    with pytest.raises(NoteError) as info:
        await Cadence("c", Order()).then("boom", boom).with_reporter(broken).run()
    assert isinstance(info.value.original_error, RuntimeError)


def test_reporter_must_be_callable() -> None:
    """``.with_reporter`` of something not callable is a ``DefinitionError``."""
    with pytest.raises(DefinitionError):
        Cadence("c", Order()).with_reporter("print")  # type: ignore[arg-type]


def test_console_reporter_prints_milliseconds(capsys: pytest.CaptureFixture[str]) -> None:
    """``console_reporter`` prints ``[cadence] name: 12.35 ms`` to stdout."""
    console_reporter("price", 0.012345, Order())
    assert capsys.readouterr().out == "[cadence] price: 12.35 ms\n"


def test_console_reporter_writes_to_a_file() -> None:
    """``console_reporter(file=...)`` writes there instead."""
    out = io.StringIO()
    console_reporter("price", 0.5, Order(), file=out)
    assert out.getvalue() == "[cadence] price: 500.00 ms\n"


async def test_console_reporter_in_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    """As a cadence's reporter, ``console_reporter`` prints one line per note and one for the run."""
    await flow().with_reporter(console_reporter).run()
    lines = capsys.readouterr().out.splitlines()
    names = [re.fullmatch(r"\[cadence\] (.+): \d+\.\d\d ms", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert names == ["price", "<lambda>", "<lambda>", "checkout"]


def test_json_reporter_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    """``json_reporter`` prints one JSON line with the note, milliseconds, score type and a timestamp."""
    before = time.time()
    json_reporter("price", 0.0123456, Order())
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {"note", "elapsed_ms", "score_type", "timestamp"}
    assert (record["note"], record["elapsed_ms"], record["score_type"]) == ("price", 12.346, "Order")
    assert before <= record["timestamp"] <= time.time()


async def test_json_reporter_in_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    """As a cadence's reporter, ``json_reporter`` prints one parseable line per note and for the run."""
    await flow().with_reporter(json_reporter).run()
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["note"] for r in records] == ["price", "<lambda>", "<lambda>", "checkout"]
    assert {r["score_type"] for r in records} == {"Order"}


def test_json_reporter_writes_to_a_file() -> None:
    """``json_reporter(file=...)`` writes there instead."""
    out = io.StringIO()
    json_reporter("n", 0.001, None, file=out)
    assert json.loads(out.getvalue())["score_type"] == "NoneType"
