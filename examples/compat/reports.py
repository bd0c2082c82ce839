"""A reporting job written in cadence-orchestration's documented style (no web framework).

``cadence-studio list examples/compat/reports.py`` lists the factory ``create_report_cadence(score)``
as runnable with the score's defaults, and ``cadence-studio run examples/compat/reports.py:
create_report_cadence`` runs it. It uses ``ok`` / ``err`` results, a child cadence with a merge, a
branch, ``TimingHooks``, the ``OpenTelemetryReporter`` (``.report``), a ``CircuitBreaker`` instance
shared by two notes and an ``AtomicDict[T]`` that parallel notes write at once.
"""

# No `from __future__ import annotations`, as in the documentation's examples.
import asyncio
from dataclasses import dataclass, field

from cadence import (
    AtomicDict,
    Cadence,
    CircuitBreaker,
    MergeStrategy,
    Score,
    TimingHooks,
    circuit_breaker,
    fallback,
    note,
)
from cadence.reporters import OpenTelemetryReporter
from cadence.result import Result, err, ok

SALES = {"north": [120, 80, 95], "south": [60, 40], "east": []}

# The sales database is one service: a breaker shared by every note that reads it.
sales_db = CircuitBreaker("sales-db", failure_threshold=2, recovery_timeout=10.0)


def region_total(region: str) -> Result:
    rows = SALES.get(region)
    if rows is None:
        return err(KeyError(region))
    if not rows:
        return err(ValueError(f"no sales in {region}"))
    return ok(sum(rows))


@dataclass
class ReportScore(Score):
    regions: list = field(default_factory=lambda: ["north", "south", "east"])
    totals: AtomicDict[int] = field(default_factory=AtomicDict[int])
    problems: list = field(default_factory=list)
    grand_total: int = 0
    verdict: str = ""
    summary: str = ""


@dataclass
class SummaryScore(Score):
    grand_total: int = 0
    text: str = ""


@circuit_breaker(sales_db)
@note
async def load_north(score: ReportScore):
    await asyncio.sleep(0.005)
    _record(score, "north")


@circuit_breaker(sales_db)
@note
async def load_south(score: ReportScore):
    await asyncio.sleep(0.005)
    _record(score, "south")


@fallback(default=None)
@note
def load_east(score: ReportScore):
    _record(score, "east")


def _record(score: ReportScore, region: str):
    result = region_total(region)
    if result.is_ok:
        score.totals.set(region, result.unwrap())
    else:
        score.problems.append(f"{region}: {result.unwrap_or('no data')}")


@note
def add_up(score: ReportScore):
    score.grand_total = sum(score.totals.get_all().values())


def is_good_quarter(score: ReportScore):
    return score.grand_total >= 300


@note
def celebrate(score: ReportScore):
    score.verdict = "good quarter"


@note
def investigate(score: ReportScore):
    score.verdict = "needs a look"


@note
def write_summary(score: SummaryScore):
    score.text = f"{score.grand_total} sold"


summary_cadence = Cadence("summary", SummaryScore()).then("write", write_summary)


def merge_summary(parent: ReportScore, child: SummaryScore):
    parent.summary = child.text


def create_report_cadence(score: ReportScore) -> Cadence:
    """The quarterly report on ``score`` (the studio builds it on ``ReportScore()``)."""
    tracer = OpenTelemetryReporter(service_name="reports")
    return (
        Cadence("report", score)
        .with_hooks(TimingHooks())
        .with_reporter(tracer.report)
        .sync("load", [load_north, load_south, load_east], merge_strategy=MergeStrategy.smart_merge)
        .then("add_up", add_up)
        .split("judge", is_good_quarter, celebrate, investigate)
        .child(
            "summary",
            summary_cadence,
            merge_summary,
            score=lambda s: SummaryScore(grand_total=s.grand_total),
        )
    )
