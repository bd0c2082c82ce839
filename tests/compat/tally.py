"""The score, notes and hooks the FastAPI and Flask compat tests both serve (each builds its own cadences)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cadence import Score, note
from cadence.hooks import current_run_id


@dataclass
class TallyScore(Score):
    name: str = "construction"
    count: int = 0
    seen: list[str] = field(default_factory=list)
    run_id: str | None = None


async def count(score: TallyScore) -> None:
    score.count += 1
    score.seen.append(score.name)
    score.run_id = current_run_id()


@note
def leak(score: TallyScore) -> None:
    msg = f"password=hunter2 for {score.name}"
    raise RuntimeError(msg)


class Observed:
    """Hooks make the runs observed, so each run has a run id the notes can read."""

    def before_cadence(self, name: str, score: object) -> None:
        pass
