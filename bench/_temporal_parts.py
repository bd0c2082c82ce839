"""What bench/temporal.py runs on Temporal: a cadence of trivial notes, and the same work written by hand
as a plain Temporal workflow of sequential activities (the baseline), in a module of their own so the
workflow sandbox can import them (it re-imports a workflow's module; ``__main__`` would not do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

from cadence import Cadence, Score


@dataclass
class Tally(Score):
    n: int = 0
    label: str = "order-1"


async def abump(score: Tally) -> None:
    score.n += 1


def tally_cadence(notes: int) -> Cadence[Tally]:
    """``notes`` sequential ``async def`` notes, each adding 1 (distinct names: distinct activities)."""
    cadence = Cadence("tally", Tally())
    for i in range(notes):
        cadence.then(f"step_{i}", abump)
    return cadence


@activity.defn(name="bump")
async def bump_activity(data: dict[str, Any]) -> dict[str, Any]:
    """The hand-written side's activity: what a note does, on a plain dict."""
    return {**data, "n": data["n"] + 1}


@workflow.defn(name="HandWritten")
class HandWritten:
    """``notes`` sequential activities, each given and returning the score as a dict."""

    @workflow.run
    async def run(self, notes: int) -> dict[str, Any]:
        data: dict[str, Any] = {"n": 0, "label": "order-1"}
        for _ in range(notes):
            data = await workflow.execute_activity(
                "bump", data, start_to_close_timeout=timedelta(seconds=30), result_type=dict
            )
        return data
