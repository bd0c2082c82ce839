"""A note that raises SystemExit has failed (it was not cancelled), and the SystemExit still propagates."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from cadence import Cadence, RunRecorder, Score


@dataclass
class Doc(Score):
    n: int = 0


def exits(s: Doc) -> None:
    sys.exit(3)


async def test_sys_exit_in_a_note_is_a_failure_in_its_events() -> None:
    """note_finished and run_finished say 'failed' with the SystemExit; the caller still gets it."""
    rec = RunRecorder()
    with pytest.raises(SystemExit) as info:
        await Cadence("c", Doc()).then("exits", exits).run(Doc(), listeners=[rec])
    assert info.value.code == 3
    assert rec.statuses["c/exits"]["status"] == "failed"
    finished = [e for e in rec.events if e.kind == "run_finished"]
    assert [(e.status, type(e.error).__name__) for e in finished] == [("failed", "SystemExit")]  # type: ignore[attr-defined]
