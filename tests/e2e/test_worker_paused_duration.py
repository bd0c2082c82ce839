"""The real worker reports a run's own time: time held at a breakpoint is not in the run's duration."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from cadence_studio import protocol as p
from cadence_studio.ui.client import WorkerClient

from .test_worker import next_of

HELD = 0.5  # the breakpoint's hold; the notes take no time, so the run's own time is far below it

MODULE = """
from dataclasses import dataclass

from cadence import Cadence, Score


@dataclass
class Tally(Score):
    n: int = 0


async def first(score: Tally) -> None:
    score.n += 1


async def second(score: Tally) -> None:
    score.n += 1


tally = Cadence("tally", Tally()).then("first", first).then("second", second)
"""


async def test_run_duration_leaves_out_the_time_held_at_a_breakpoint(tmp_path: Path) -> None:
    (tmp_path / "tally_module.py").write_text(textwrap.dedent(MODULE))
    client = WorkerClient("tally_module.py", cwd=tmp_path)
    await client.start()
    try:
        await next_of(client, p.Catalog)
        await client.send(p.Run(target="tally", breakpoints=["tally/second"]))
        paused = await next_of(client, p.Paused)
        assert paused.node_id == "tally/second"
        await asyncio.sleep(HELD)
        await client.send(p.Continue())
        end = await next_of(client, p.RunEnded)
    finally:
        await client.close(grace=1.0)
    assert end.status == "done"
    assert end.duration < HELD / 2, (
        f"the run reported {end.duration:.3f} s, the breakpoint's {HELD} s included"
    )
