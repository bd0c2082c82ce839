"""Diagrams with a run's statuses mark notes that retried (↻N) or fell back (↪); the real tools agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cadence.diagram import format_duration, run_marks, save_diagram, to_dot, to_mermaid
from tests._tools.renderers import MermaidRenderer, dot_labels, run_dot
from tests.studio.test_run_marks import job_cadence, real_run

# What a run of job_cadence() gives (checked against a real run below), with fixed durations.
STATUSES: dict[str, dict[str, Any]] = {
    "job": {"status": "done", "duration": 0.004},
    "job/flaky": {"status": "done", "duration": 0.012, "attempts": 2},
    "job/quote": {"status": "done", "duration": 0.0021, "fallback": True},
    "job/steady": {"status": "done", "duration": 0.0005},
}


def test_statuses_are_what_a_real_run_gives() -> None:
    """The marks of these statuses are those of a real run of the same cadence."""
    statuses = real_run(job_cadence()).statuses()
    assert {node: run_marks(statuses[node]) for node in STATUSES} == {
        node: run_marks(entry) for node, entry in STATUSES.items()
    }


def test_dot_labels_carry_the_marks() -> None:
    """The run line of a node reads ``12 ms ↻2``; the real ``dot`` draws it without a warning."""
    labels = dot_labels(run_dot(to_dot(job_cadence(), statuses=STATUSES)))
    assert ["flaky", "↻3", "12 ms ↻2"] in labels.values()
    assert ["quote", "↪", "2 ms ↪"] in labels.values()
    assert ["steady", "↻3", "500 µs"] in labels.values()


def test_mermaid_labels_carry_the_marks(mermaid: MermaidRenderer) -> None:
    """The same run line in Mermaid, rendered by the real Mermaid."""
    labels = mermaid.render(to_mermaid(job_cadence(), statuses=STATUSES)).labels
    assert "flaky\n↻3\n12 ms ↻2" in labels
    assert "quote\n↪\n2 ms ↪" in labels


def test_a_mark_without_a_duration_still_shows() -> None:
    """A note still running after a failed attempt shows its marks alone."""
    statuses = {"job/flaky": {"status": "running", "attempts": 2}}
    assert ["flaky", "↻3", "↻2"] in dot_labels(run_dot(to_dot(job_cadence(), statuses=statuses))).values()


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_images_carry_the_marks(suffix: str, tmp_path: Path) -> None:
    """SVG and PNG go through the real ``dot`` from the same labels."""
    path = save_diagram(job_cadence(), tmp_path / f"job.{suffix}", statuses=STATUSES)
    data = path.read_bytes()
    if suffix == "svg":
        assert "12 ms ↻2" in data.decode()
    else:
        assert data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.0, "0 µs"),
        (0.00004, "40 µs"),
        (0.0009996, "1 ms"),
        (0.012, "12 ms"),
        (0.9996, "1.00 s"),
        (1.234, "1.23 s"),
        (59.996, "1 min 0 s"),
        (123.0, "2 min 3 s"),
        (119.6, "2 min 0 s"),
        (3900.0, "1 h 5 min"),
        (-1.0, "0 µs"),
    ],
)
def test_one_duration_style(seconds: float, shown: str) -> None:
    """Every duration the tools show is in one style, and a rounding never shows ``1000 ms`` or ``60 s``."""
    assert format_duration(seconds) == shown
