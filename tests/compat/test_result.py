"""`cadence.result.ok(value)` / `err(error)` build the same `Ok` / `Err` a user would construct."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cadence import Cadence, Score
from cadence.result import Err, Ok, Result, err, ok


@dataclass
class Lookup(Score):
    sku: str = ""
    found: Result[int, str] | None = None


def find(lookup: Lookup) -> None:
    stock = {"apple": 3}
    lookup.found = ok(stock[lookup.sku]) if lookup.sku in stock else err(f"no {lookup.sku!r}")


def test_ok_and_err_are_the_classes_values() -> None:
    """`ok(v)` is `Ok(v)` and `err(e)` is `Err(e)`, holding the very same object."""
    boom = KeyError("k")
    assert ok(3) == Ok(3)
    assert isinstance(ok(3), Ok)
    assert err(boom) == Err(boom)
    assert err(boom).error is boom
    assert ok(3).map(lambda v: v + 1).unwrap() == 4
    assert err("bad").unwrap_or(0) == 0
    with pytest.raises(KeyError):
        err(boom).unwrap()


def test_notes_return_results_made_with_the_constructors() -> None:
    """In a run, a note stores `ok(...)` or `err(...)` and the caller reads it back."""
    flow = Cadence("lookup", Lookup()).then("find", find)
    hit = flow.run_sync(Lookup(sku="apple"))
    miss = flow.run_sync(Lookup(sku="pear"))
    assert hit.found == Ok(3)
    assert hit.found is not None
    assert hit.found.is_ok
    assert miss.found == Err("no 'pear'")
    assert miss.found is not None
    assert miss.found.is_err
