"""``OpenTelemetryReporter`` and ``TracingHooks`` with the real OpenTelemetry SDK (in-memory exporter)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cadence import Cadence, MergeStrategy, NoteError, Score, TracingHooks, retry
from cadence.reporters import OpenTelemetryReporter


@dataclass
class Order(Score):
    total: int = 0
    tags: list[str] = field(default_factory=list)
    fail: bool = False
    count: int = 0


@dataclass
class Pay(Score):
    paid: bool = False


def load(o: Order) -> None:
    o.total += 10


async def tag_a(o: Order) -> None:
    await asyncio.sleep(0.02)
    o.tags.append("a")


async def tag_b(o: Order) -> None:
    await asyncio.sleep(0.02)
    o.tags.append("b")


def big(o: Order) -> bool:
    return o.total > 5


def express(o: Order) -> None:
    o.tags.append("express")


async def charge(p: Pay) -> None:
    p.paid = True


def merge_pay(parent: Order, child: Pay) -> None:
    if child.paid:
        parent.tags.append("paid")


def explode(o: Order) -> None:
    if o.fail:
        raise KeyError("missing")


def make_flaky() -> Any:
    calls: list[int] = []

    @retry(max_attempts=3, delay=0.0, jitter=False)
    async def flaky(o: Order) -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise ConnectionError("flaky")

    return flaky


def build(hooks: Any) -> Cadence[Order]:
    payment = Cadence("payment", Pay()).then("charge", charge)
    return (
        Cadence("checkout", Order())
        .then("load", load)
        .sync("tag", [tag_a, tag_b], merge_strategy=MergeStrategy.smart_merge)
        .split("route", big, express)
        .child("pay", payment, merge_pay)
        .then("flaky", make_flaky())
        .then("explode", explode)
        .with_hooks(hooks)
    )


def sdk() -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    out = {s.name: s for s in spans}
    assert len(out) == len(spans), [s.name for s in spans]
    return out


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def seconds(span: ReadableSpan) -> float:
    assert span.start_time is not None
    assert span.end_time is not None
    return (span.end_time - span.start_time) / 1e9


def check_tree(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    """The nesting every traced run of ``build`` must have; returns the spans by name."""
    s = by_name(spans)
    assert set(s) == {
        "cadence checkout",
        "note load",
        "note tag_a",
        "note tag_b",
        "note express",
        "child pay",
        "cadence payment",
        "note charge",
        "note flaky",
        "note explode",
    }
    root = s["cadence checkout"]
    assert root.parent is None
    for note in ("load", "tag_a", "tag_b", "express", "flaky", "explode"):
        assert parent_of(s[f"note {note}"]) == span_id(root), note
    assert parent_of(s["child pay"]) == span_id(root)
    assert parent_of(s["cadence payment"]) == span_id(s["child pay"])
    assert parent_of(s["note charge"]) == span_id(s["cadence payment"])
    trace_ids = {x.context.trace_id for x in spans if x.context is not None}
    assert len(trace_ids) == 1
    # .sync notes are siblings that overlap in time, each covering its real 20 ms
    a, b = s["note tag_a"], s["note tag_b"]
    assert a.start_time is not None and b.start_time is not None  # noqa: PT018
    assert a.end_time is not None and b.end_time is not None  # noqa: PT018
    assert a.start_time < b.end_time
    assert b.start_time < a.end_time
    assert seconds(a) >= 0.02
    assert seconds(b) >= 0.02
    # every note lies within its cadence span
    for x in spans:
        assert x.start_time is not None and x.end_time is not None  # noqa: PT018
        assert root.start_time is not None and root.end_time is not None  # noqa: PT018
        assert root.start_time <= x.start_time <= x.end_time <= root.end_time
    return s


async def test_reporter_spans_nest_and_carry_real_times_and_attributes() -> None:
    provider, exporter = sdk()
    reporter = OpenTelemetryReporter(service_name="shop", tracer_provider=provider)
    before = time.time_ns()
    await build(reporter).run(Order())
    after = time.time_ns()
    spans = exporter.get_finished_spans()
    s = check_tree(spans)
    root = s["cadence checkout"]
    assert root.start_time is not None and root.end_time is not None  # noqa: PT018
    assert before <= root.start_time <= root.end_time <= after
    assert seconds(root) >= 0.02
    assert all(x.status.status_code is StatusCode.UNSET for x in spans)
    assert all(x.instrumentation_scope is not None for x in spans)
    assert {x.instrumentation_scope.name for x in spans if x.instrumentation_scope} == {"shop"}
    assert s["note tag_a"].attributes is not None
    assert s["note tag_a"].attributes["cadence.node_id"] == "checkout/tag/tag_a"
    assert s["note charge"].attributes is not None
    assert s["note charge"].attributes["cadence.node_id"] == "checkout/pay/charge"
    assert root.attributes is not None
    assert root.attributes["cadence.node_id"] == "checkout"
    assert root.attributes["cadence.merge.conflicts"] == 1  # both .sync tasks changed `tags`
    assert s["note flaky"].attributes is not None
    assert s["note flaky"].attributes["cadence.retry.attempts"] == 2
    assert [e.name for e in s["note flaky"].events] == ["retry", "retry"]
    assert s["note load"].attributes is not None
    assert s["note load"].attributes["cadence.retry.attempts"] == 0
    merges = [e for e in root.events if e.name == "merge"]
    assert len(merges) == 1
    assert merges[0].attributes is not None
    assert merges[0].attributes["cadence.merge.group"] == "tag"
    assert merges[0].attributes["cadence.merge.conflicts"] == 1  # both tasks appended to tags


async def test_failing_note_has_error_status_and_exception_event() -> None:
    provider, exporter = sdk()
    reporter = OpenTelemetryReporter(tracer_provider=provider)
    with pytest.raises(NoteError):
        await build(reporter).run(Order(fail=True))
    s = check_tree(exporter.get_finished_spans())
    expected = {"note explode": "KeyError", "cadence checkout": "cadence.exceptions.NoteError"}
    for name in expected:
        span = s[name]
        assert span.status.status_code is StatusCode.ERROR, name
        exceptions = [e for e in span.events if e.name == "exception"]
        assert len(exceptions) == 1, name
        assert exceptions[0].attributes is not None
        error_type = str(exceptions[0].attributes["exception.type"])
        assert (
            error_type
            == {"note explode": "KeyError", "cadence checkout": "cadence.exceptions.NoteError"}[name]
        )
    explode = s["note explode"]
    assert explode.attributes is not None
    assert explode.attributes["cadence.status"] == "failed"
    assert s["note load"].status.status_code is StatusCode.UNSET


async def test_merge_conflicts_counted_on_the_cadence_span() -> None:
    provider, exporter = sdk()

    def plus_one(o: Order) -> None:
        o.count += 1

    def plus_two(o: Order) -> None:
        o.count += 2

    flow = (
        Cadence("sum", Order())
        .sync("add", [plus_one, plus_two], merge_strategy=MergeStrategy.smart_merge)
        .with_hooks(OpenTelemetryReporter(tracer_provider=provider))
    )
    assert (await flow.run()).count == 3
    s = by_name(exporter.get_finished_spans())
    root = s["cadence sum"]
    assert root.attributes is not None
    assert root.attributes["cadence.merge.conflicts"] == 1
    (merge,) = [e for e in root.events if e.name == "merge"]
    assert merge.attributes is not None
    assert list(merge.attributes["cadence.merge.conflict_fields"]) == ["count"]


async def test_one_instance_serves_concurrent_runs() -> None:
    provider, exporter = sdk()
    reporter = OpenTelemetryReporter(tracer_provider=provider)
    flow = build(reporter)
    await asyncio.gather(*(flow.run(Order()) for _ in range(10)))
    spans = exporter.get_finished_spans()
    assert len(spans) == 100
    by_trace: dict[int, list[ReadableSpan]] = {}
    for x in spans:
        assert x.context is not None
        by_trace.setdefault(x.context.trace_id, []).append(x)
    assert len(by_trace) == 10
    for group in by_trace.values():
        check_tree(tuple(group))
    assert reporter._builder._runs == {}


async def test_tracing_hooks_build_the_same_nested_spans() -> None:
    provider, exporter = sdk()
    hooks = TracingHooks(provider.get_tracer("test"))
    with pytest.raises(NoteError):
        await build(hooks).run(Order(fail=True))
    s = check_tree(exporter.get_finished_spans())
    assert s["note explode"].status.status_code is StatusCode.ERROR
    assert s["note flaky"].attributes is not None
    assert s["note flaky"].attributes["cadence.retry.attempts"] == 2


def test_missing_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'cadence-studio\[opentelemetry\]'"):
        OpenTelemetryReporter()
