"""`describe()`: the one graph model, plain JSON with stable path ids."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cadence import Cadence, MergeStrategy, Score, circuit_breaker, fallback, note, retry, timeout


@dataclass
class D(Score):
    x: int = 0


@retry(2, delay=0)
@timeout(1.5)
@note
async def fetch(s: D) -> None:
    """Fetch the thing."""


@fallback(0, field="x")
@circuit_breaker(3, 10.0, name="describe-test")
def compute(s: D) -> None:
    s.x = 1


def cond(s: D) -> bool:
    return True


INNER = Cadence("inner", D()).then("in1", compute)
OUTER = (
    Cadence("outer", D())
    .then("fetch", fetch)
    .sequence("seq", [compute, compute])
    .sync("par", [fetch, compute], merge_strategy=MergeStrategy.smart_merge)
    .split("route", cond, [fetch], None)
    .child("sub", INNER, lambda p, c: None)
)


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node["children"]:
        out.extend(_walk(child))
    return out


def test_describe_is_plain_json_with_path_ids() -> None:
    """Every measure kind appears with its path id; the tree round-trips through JSON."""
    tree = OUTER.describe()
    assert json.loads(json.dumps(tree)) == tree
    ids = [(n["kind"], n["id"]) for n in _walk(tree)]
    assert ids == [
        ("cadence", "outer"),
        ("note", "outer/fetch"),
        ("sequence", "outer/seq"),
        ("note", "outer/seq/compute"),
        ("note", "outer/seq/compute#2"),
        ("sync", "outer/par"),
        ("note", "outer/par/fetch"),
        ("note", "outer/par/compute"),
        ("split", "outer/route"),
        ("branch", "outer/route/true"),
        ("note", "outer/route/true/fetch"),
        ("branch", "outer/route/false"),
        ("child", "outer/sub"),
        ("note", "outer/sub/in1"),
    ]
    assert tree["score_type"] == f"{__name__}.D"


def test_note_info_has_source_async_and_resilience() -> None:
    """Notes carry qualname, module, file, line, sync/async, docstring and decorators outermost first."""
    tree = OUTER.describe()
    info = tree["children"][0]["note"]
    assert info["qualname"] == "fetch"
    assert info["module"] == __name__
    assert Path(info["file"]).resolve() == Path(__file__).resolve()
    assert info["line"] > 0
    assert info["is_async"] is True
    assert info["description"] == "Fetch the thing."
    assert [r["kind"] for r in info["resilience"]] == ["retry", "timeout"]
    assert info["resilience"][0]["max_attempts"] == 2
    assert info["resilience"][1]["seconds"] == 1.5
    compute_info = tree["children"][1]["children"][0]["note"]
    assert compute_info["is_async"] is False
    assert [r["kind"] for r in compute_info["resilience"]] == ["fallback", "circuit_breaker"]
    split = tree["children"][3]
    assert split["condition"]["qualname"] == "cond"
    assert tree["children"][2]["merge_strategy"] == "smart_merge"
    assert tree["children"][4]["cadence"] == "inner"


def test_ids_are_stable_across_describes_and_slashes_are_escaped() -> None:
    """Describing twice gives the same ids; a '/' in a name never splits a path."""
    assert OUTER.describe() == OUTER.describe()
    odd = Cadence("a/b", D()).then("x/y", compute).describe()
    assert [n["id"] for n in _walk(odd)] == ["a∕b", "a∕b/x∕y"]


# ---------------------------------------------------------------- looked up once per callable


def test_describe_twice_gives_equal_graphs_that_do_not_share_dicts() -> None:
    first, second = OUTER.describe(), OUTER.describe()
    assert first == second
    first["children"][0]["note"]["resilience"][0]["attempts"] = 99
    first["children"][0]["note"]["name"] = "changed"
    third = OUTER.describe()
    assert third == second
    assert third["children"][0]["note"]["name"] == "fetch"


def test_a_function_whose_code_was_swapped_is_described_anew() -> None:
    """A hot reload that replaces a function's code keeps the object: its line must follow the code."""
    namespace: dict[str, Any] = {}
    exec(compile("\ndef task(s):\n    pass\n", "first.py", "exec"), namespace)
    task = namespace["task"]
    cadence = Cadence("swap", D()).then("t", task)
    before = cadence.describe()["children"][0]["note"]["line"]
    other: dict[str, Any] = {}
    exec(compile("\n\n\n\n\n\ndef task(s):\n    s.x = 3\n", "third.py", "exec"), other)
    task.__code__ = other["task"].__code__
    after = cadence.describe()["children"][0]["note"]["line"]
    assert (before, after) == (2, 7)


def test_callables_without_weak_references_are_described_too() -> None:
    cadence = Cadence("builtins", D()).then("p", print).then("l", len)
    notes = [child["note"] for child in cadence.describe()["children"]]
    assert [n["qualname"] for n in notes] == ["print", "len"]
    assert cadence.describe() == cadence.describe()


def test_a_thousand_notes_of_one_name_get_unique_ids_in_order() -> None:
    cadence = Cadence("many", D())
    for _ in range(1000):
        cadence.then("same", compute)
    ids = [child["id"] for child in cadence.describe()["children"]]
    assert ids[:3] == ["many/same", "many/same#2", "many/same#3"]
    assert ids[-1] == "many/same#1000"
    assert len(set(ids)) == 1000
