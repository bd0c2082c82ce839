"""The worker's store keeps the root score before each top-level measure as deltas, in the checkpoint's
transaction: an untouched field is written once, and the score before any measure folds back right."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cadence import Cadence, Score
from cadence_studio.protocol import scores_before
from cadence_studio.worker.durable import StudioStore, score_before

BIG = "x" * 200_000


@dataclass
class Tally(Score):
    count: int = 0
    trail: list[str] = field(default_factory=list)
    big: str = BIG


async def bump(score: Tally) -> None:
    score.count += 1
    score.trail.append(f"n{score.count}")


def flat(n: int) -> Cadence[Tally]:
    cadence = Cadence("flat", Tally())
    for i in range(n):
        cadence.then(f"n{i}", bump)
    return cadence


def run(store: StudioStore, cadence: Cadence[Tally], run_id: str, **kwargs: object) -> Tally:
    store.follow(run_id, cadence, resume=bool(kwargs.pop("resume", False)))
    return asyncio.run(cadence.run(checkpoint=store, run_id=run_id, **kwargs))  # type: ignore[arg-type]


def rows(path: Path) -> list[tuple[str | None, str]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT node_id, fields FROM studio_steps ORDER BY seq"))


def test_the_score_before_each_measure_folds_back(tmp_path: Path) -> None:
    store = StudioStore(tmp_path / "c.sqlite3")
    cadence = flat(50)
    run(store, cadence, "r1")
    for i in (0, 1, 17, 49):
        before = score_before(store, cadence, "r1", f"flat/n{i}")
        assert (before.count, before.trail, before.big) == (i, [f"n{k}" for k in range(1, i + 1)], BIG)


def test_an_untouched_field_is_written_once_not_per_measure(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    run(StudioStore(path), flat(50), "r1")
    written = rows(path)
    assert [node for node, _ in written] == [f"flat/n{i}" for i in range(50)] + [None]
    assert sum(BIG in text for _, text in written) == 1  # the run's first checkpoint only
    assert all(set(json.loads(text)) == {"count", "trail"} for _, text in written[1:])


def test_a_resumed_run_does_not_move_where_its_first_measure_began(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = StudioStore(path)
    cadence = flat(5)

    async def stop_at_3(score: Tally) -> None:
        if score.count == 3:
            raise RuntimeError("crash at 3")
        await bump(score)

    crashing = Cadence("flat", Tally())
    for i in range(5):
        crashing.then(f"n{i}", stop_at_3 if i == 3 else bump)
    with pytest.raises(Exception, match="crash at 3"):
        run(store, crashing, "r1")
    store.follow("r1", cadence, resume=True)
    final = asyncio.run(cadence.resume("r1", store))
    assert final.count == 5
    assert score_before(store, cadence, "r1", "flat/n0").count == 0
    assert score_before(store, cadence, "r1", "flat/n3").count == 3
    assert score_before(store, cadence, "r1", "flat/n4").count == 4


def test_a_new_run_under_a_known_id_starts_its_rows_over(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = StudioStore(path)
    run(store, flat(3), "r1")
    run(store, flat(3), "r1", score=Tally(count=100))
    assert score_before(store, flat(3), "r1", "flat/n0").count == 100
    assert score_before(store, flat(3), "r1", "flat/n2").count == 102
    assert len(rows(path)) == 4


def test_a_file_from_before_the_deltas_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE studio_before (run_id TEXT, node_id TEXT, fields TEXT)")
        db.execute("INSERT INTO studio_before VALUES ('old', 'flat/n1', ?)", (json.dumps({"count": "7"}),))
    with sqlite3.connect(path) as db:
        assert scores_before.score_before(db, "old", "flat/n1") == {"count": "7"}
        assert scores_before.score_before(db, "old", "flat/n2") is None
    assert score_before(StudioStore(path), flat(3), "old", "flat/n1").count == 7
