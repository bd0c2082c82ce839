"""Field provenance's cost while a run goes on: a run's events into a ``Session``, with and without it.

Run with ``.venv/bin/python bench/field_writes.py``. Not a test: it prints one table and exits 0,
unless ``--strict`` is given (then it exits 1 when a row misses its target).

The session feeds every event to :class:`~cadence_studio.protocol.field_writes.FieldWrites` (which
note wrote which field). It must not slow a fast run down: what a note wrote is worked out when a
field is traced or two runs are compared, not as the events arrive. Target: at most 10 µs more per
event, on a 10,000-note run of a two-field score (20,001 events). The first trace of a field then
diffs every note's scores once: that row is printed for context.

Method: the same prepared messages are applied to a fresh ``Session`` five times with field writes
and five times with ``FieldWrites.feed`` replaced by a no-op, interleaved; the minimum of each is
compared (the garbage collector paused inside a run, as ``timeit`` does).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

from cadence_studio import protocol as p
from cadence_studio.protocol.field_writes import FieldWrites
from cadence_studio.protocol.session import Session

NOTES = 10_000
TARGET_US = 10.0


def tree(n: int) -> dict[str, Any]:
    """A two-field score as the worker sends it."""
    return {
        "t": "Tally",
        "k": "dataclass",
        "r": f"Tally(n={n}, s='x')",
        "c": [
            ["n", {"t": "int", "k": "scalar", "r": str(n)}],
            ["s", {"t": "str", "k": "scalar", "r": "'x'"}],
        ],
    }


def messages() -> list[p.Message]:
    out: list[p.Message] = [
        p.EventMessage(run=1, event={"kind": "run_started", "node_id": "flat", "depth": 0}, score=tree(0))
    ]
    for i in range(NOTES):
        node = f"flat/n{i:05d}"
        started = {"kind": "note_started", "node_id": node, "depth": 0}
        finished = {"kind": "note_finished", "node_id": node, "depth": 0, "duration": 0.0, "status": "done"}
        out.append(p.EventMessage(run=1, event=started, score=tree(i)))
        out.append(p.EventMessage(run=1, event=finished, score=tree(i + 1)))
    return out


def apply(batch: list[p.Message]) -> tuple[float, Session]:
    session = Session("bench")
    session.begin_run(1, "flat")
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for message in batch:
            session.apply(message)
        return time.perf_counter() - start, session
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses its target")
    args = parser.parse_args()
    batch = messages()
    feed = FieldWrites.feed
    with_writes: list[float] = []
    without: list[float] = []
    session: Session | None = None
    for _ in range(5):
        FieldWrites.feed = feed  # type: ignore[method-assign]
        took, session = apply(batch)
        with_writes.append(took)
        FieldWrites.feed = lambda self, event, score: None  # type: ignore[method-assign]
        without.append(apply(batch)[0])
    FieldWrites.feed = feed  # type: ignore[method-assign]
    assert session is not None
    assert session.run is not None
    extra = (min(with_writes) - min(without)) / len(batch) * 1e6
    start = time.perf_counter()
    traced = session.run.writes.provenance("n")
    first_trace = time.perf_counter() - start
    ok = extra <= TARGET_US
    alone = f"{min(without) * 1e3:.0f} / {min(with_writes) * 1e3:.0f} ms"
    rows = [
        (
            "extra time per event while the run goes on",
            f"{extra:.1f} µs",
            f"≤ {TARGET_US:g} µs",
            "PASS" if ok else "MISS",
        ),
        ("  (session alone / with field writes)", alone, "—", ""),
        (
            "first trace of a field (every note diffed)",
            f"{first_trace * 1e3:.0f} ms",
            "—",
            f"{len(traced):,} writes",
        ),
    ]
    print(f"field writes, {NOTES:,} notes ({len(batch):,} events), Python {sys.version.split()[0]}")
    print(f"{'measure':<44} | {'result':>14} | {'target':>9} |")
    print(f"{'-' * 44}-+-{'-' * 14}-+-{'-' * 9}-+-----")
    for name, result, target, verdict in rows:
        print(f"{name:<44} | {result:>14} | {target:>9} | {verdict}")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
