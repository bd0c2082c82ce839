"""Building a big cadence: every ``.then`` costs the same, however many notes came before.

The studio's start-up target (issue 18: the graph of a 10,000-note cadence on screen within 1.0 s of
launch) includes the worker importing the user's module, i.e. building the cadence; when each added
measure rebuilt the set of names used so far, 10,000 ``.then`` took 2.5-3 s on their own. The speed
is measured by ``bench/studio.py`` (launch → graph of 10,000 notes), never by a timed test; this checks
that the names kept as measures are added still make every id unique.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadence import Cadence, Score


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


def test_repeated_names_among_many_notes_still_get_unique_ids() -> None:
    c = Cadence("many", Tally())
    for i in range(3000):
        c.then(f"n{i}", bump)
    c.then("n5", bump).then("n5", bump).then("n5#2", bump).then("n2999", bump)
    ids = [node["id"] for node in c.describe()["children"]]
    assert len(ids) == len(set(ids)) == 3004
    assert ids[-4:] == ["many/n5#2", "many/n5#3", "many/n5#2#2", "many/n2999#2"]
