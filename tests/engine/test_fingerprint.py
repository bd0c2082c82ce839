"""What a checkpoint records of a definition (cadence._fingerprint): each note's code hash, shared."""

from __future__ import annotations

from dataclasses import dataclass

from cadence import Cadence, Score, _fingerprint


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


async def double(score: Tally) -> None:
    score.count *= 2


def is_big(score: Tally) -> bool:
    return score.count > 10


def test_a_callable_used_by_many_notes_is_hashed_once_and_its_ids_are_the_structures() -> None:
    """A 1,000-note cadence of one function: one hash string for all of them, and the code map's keys
    the structure's own id strings (in the studio's worker, 10,000 notes kept 1.3 MB of copies)."""
    flat = Cadence("flat", Tally())
    for i in range(1000):
        flat.then(f"n{i:04d}", bump if i % 2 else double)
    shape = _fingerprint.shape(flat)
    code = shape["code"]
    assert len(code) == 1000
    assert code["flat/n0001"] == _fingerprint.code_hash(bump)
    assert code["flat/n0000"] == _fingerprint.code_hash(double) != code["flat/n0001"]
    assert len({id(digest) for digest in code.values()}) == 2
    structure_ids = {id(nid) for nid, _ in shape["structure"]}
    assert all(id(key) in structure_ids for key in code)


def test_the_code_map_covers_every_kind_of_measure() -> None:
    inner = Cadence("inner", Tally()).then("bump", bump)
    whole = (
        Cadence("whole", Tally())
        .then("first", bump)
        .sync("both", [bump, double])
        .split("big", is_big, if_true=[double], if_false=[bump])
        .child("nested", inner, merge=lambda parent, child: None)
    )
    code = _fingerprint.code_hashes(whole, "whole")
    assert code == _fingerprint.shape(whole)["code"]
    assert code["whole/first"] == code["whole/both/bump"] == _fingerprint.code_hash(bump)
    assert code["whole/both/double"] == _fingerprint.code_hash(double)
    assert code["whole/big"] == _fingerprint.code_hash(is_big)
    assert code["whole/big/true/double"] == code["whole/both/double"]
    assert code["whole/big/false/bump"] == code["whole/first"]
    assert "whole/nested" in code
    assert code["whole/nested/bump"] == code["whole/first"]
