"""README's "Coming from cadence-orchestration": every name of the compatibility list is there, is
importable from the module it is listed under, and the deliberate differences are listed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

#: Issue 13's names, by the module a user imports them from.
NAMES: dict[str, list[str]] = {
    "cadence.reporters": ["PrometheusReporter", "OpenTelemetryReporter"],
    "cadence.reporters.console": ["console_reporter", "json_reporter", "ConsoleReporter"],
    "cadence.result": ["ok", "err", "Ok", "Err"],
    "cadence.hooks": ["before_note", "after_note", "on_error"],
    "cadence.types": ["ScoreT", "ChildScoreT"],
    "cadence.score": ["merge_snapshots"],
    "cadence.diagram": ["DiagramNode", "MeasureShape"],
    "cadence": ["AtomicDict", "CircuitBreaker", "circuit_breaker"],
    "cadence.integrations.fastapi": [
        "with_cadence", "cadence_endpoint", "CadenceDependency", "CadenceMiddleware", "CadenceRouter",
    ],
    "cadence.integrations.flask": [
        "cadence_route", "with_cadence", "CadenceExtension", "register_cadence", "CadenceBlueprint",
    ],
}  # fmt: skip

#: The deliberate differences SPEC makes (one phrase of each that the section must carry).
DIFFERENCES = [
    "`.sync` copies are isolated",
    "Skip(reason)",
    "Sync notes run off the event loop",
    "Web error bodies hide exception messages",
    "expose_errors=True",
    "`last_write_wins` means the later task *in declaration order*",
    "`@timeout` works on sync notes",
]


def section() -> str:
    text = README.read_text()
    start = text.index("## Coming from cadence-orchestration")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.mark.parametrize("module", sorted(NAMES))
def test_every_name_is_in_the_section_and_importable(module: str) -> None:
    body = section()
    imported = importlib.import_module(module)
    for name in NAMES[module]:
        assert re.search(rf"[`@(]{name}\b", body), f"{module}.{name} is not named in README's section"
        assert hasattr(imported, name), f"{module}.{name} is not importable"


def test_the_deliberate_differences_are_listed() -> None:
    body = section()
    assert [d for d in DIFFERENCES if d not in body] == []
