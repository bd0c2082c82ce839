"""A step command does not hold the worker's commands back (issue 18: n n n typed quickly sends each
step at the previous pause; the worker used to wait 20 ms after every step before reading the next)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from cadence_studio import protocol as p
from cadence_studio.worker._io import Channel
from cadence_studio.worker.runner import Worker

MODULE = """
from dataclasses import dataclass
from cadence import Cadence, Score


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


flat = Cadence("flat", Tally()).then("a", bump).then("b", bump).then("c", bump)
"""


def pauses(sink: io.BytesIO) -> list[str]:
    return [
        message.node_id
        for line in sink.getvalue().splitlines()
        if isinstance(message := p.decode_message(line), p.Paused)
    ]


async def until(check: object, what: str) -> None:
    for _ in range(500):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_step_is_taken_without_waiting_and_the_next_command_is_read_at_once(tmp_path: Path) -> None:
    (tmp_path / "steps.py").write_text(MODULE)
    sink = io.BytesIO()
    worker = Worker("steps.py", Channel(sink), tmp_path)
    assert worker.load()
    await worker.handle(p.Run(target="flat", pause_at_start=True))
    await until(lambda: pauses(sink) == ["flat/a"], "the pause before a")
    await worker.handle(p.Step())
    # handled without waiting: the run has not even been given the loop yet, so no new pause so far
    assert pauses(sink) == ["flat/a"]
    await until(lambda: pauses(sink) == ["flat/a", "flat/b"], "the pause before b")
    await worker.handle(p.StepOver())  # so is a step over
    assert pauses(sink) == ["flat/a", "flat/b"]
    await until(lambda: pauses(sink) == ["flat/a", "flat/b", "flat/c"], "the pause before c")
    await worker.stop()
