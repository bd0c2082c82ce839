"""A run's spans (the Gantt chart's rows) from its events: placed on the run's own time, nested, marked."""

from __future__ import annotations

from typing import Any

from cadence_studio.protocol.spans import Spans


def ev(kind: str, node: str, at: float = 0.0, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "node_id": node, "at": at, **fields}


def test_spans_start_at_their_clock_and_last_the_engines_duration() -> None:
    """A pause between two notes moves neither: the clock leaves it out, wall time (``at``) would not."""
    spans = Spans()
    spans.apply(ev("note_started", "c/a", at=100.0), 0.001)
    spans.apply(ev("note_finished", "c/a", at=100.011, duration=0.010, status="done"), 0.011)
    spans.apply(ev("note_started", "c/b", at=160.0), 0.012)  # held a minute before it
    spans.apply(ev("note_finished", "c/b", at=160.02, duration=0.020, status="failed"), 0.032)
    a, b = spans.rows
    assert (a.start, a.end, a.status) == (0.001, 0.011, "done")
    assert (b.start, b.status) == (0.012, "failed")
    assert b.end is not None
    assert abs(b.end - 0.032) < 1e-9
    assert spans.extent == b.end
    assert not spans.running


def test_a_group_nests_its_members_and_a_split_lasts_until_its_branch_ends() -> None:
    spans = Spans()
    spans.apply(ev("forked", "c/g", name="g"), 0.0)
    spans.apply(ev("note_started", "c/g/x"), 0.001)
    spans.apply(ev("note_started", "c/g/y"), 0.001)
    spans.apply(ev("note_finished", "c/g/y", duration=0.002), 0.003)
    spans.apply(ev("note_finished", "c/g/x", duration=0.004), 0.005)
    spans.apply(ev("merged", "c/g", duration=0.006), 0.006)
    spans.apply(ev("branch_taken", "c/s", name="s", branch="true"), 0.007)
    spans.apply(ev("note_started", "c/s/true/t"), 0.008)
    spans.apply(ev("note_finished", "c/s/true/t", duration=0.010), 0.018)
    by = spans.by_node
    assert [(s.node, s.depth, s.name) for s in spans.rows] == [
        ("c/g", 0, "g"),
        ("c/g/x", 1, "x"),
        ("c/g/y", 1, "y"),
        ("c/s", 0, "s"),
        ("c/s/true/t", 1, "true/t"),
    ]
    assert by["c/g"].kind == "sync"
    assert by["c/g"].end == 0.006
    assert by["c/s"].end == by["c/s/true/t"].end


def test_retries_fallbacks_timeouts_and_stalls_mark_their_span() -> None:
    spans = Spans()
    spans.apply(ev("note_started", "c/n"), 0.0)
    spans.apply(ev("retry_attempt", "c/n", attempt=1), 0.004)
    spans.apply(ev("retry_attempt", "c/n", attempt=2), 0.008)
    spans.apply(ev("timed_out", "c/n"), 0.010)
    spans.apply(ev("fallback_used", "c/n"), 0.010)
    spans.apply(ev("stalled", "c/n", blocked=0.2), 0.2)
    assert list(spans.running) == ["c/n"]
    span = spans.by_node["c/n"]
    assert span.retries == [0.004, 0.008]
    assert span.fell_back
    assert span.timed_out
    assert span.stalled == 0.2
    assert span.end is None
    spans.close()  # the run was stopped: the open note ends where the run was last seen
    assert span.end == 0.2
    assert span.status == "cancelled"


def test_a_run_recorded_without_clocks_is_placed_by_wall_time() -> None:
    spans = Spans()
    spans.apply(ev("note_started", "c/a", at=50.0), None)
    spans.apply(ev("note_finished", "c/a", at=50.5, duration=0.5), None)
    assert spans.rows[0].start == 0.0
    assert spans.rows[0].end == 0.5
