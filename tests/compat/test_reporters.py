"""`cadence.reporters` is a package: console, prometheus and opentelemetry modules, each reporter used
through `.with_reporter(reporter.report)` the way cadence-orchestration's users attach them."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from cadence import Cadence, Score
from cadence.reporters import OpenTelemetryReporter, PrometheusReporter
from cadence.reporters import console as console_module
from cadence.reporters.console import ConsoleReporter, console_reporter, json_reporter
from cadence.reporters.opentelemetry import OpenTelemetryReporter as OtelFromModule
from cadence.reporters.prometheus import PrometheusReporter as PromFromModule


@dataclass
class Order(Score):
    total: int = 0


def price(order: Order) -> None:
    order.total = 42


def ship(order: Order) -> None:
    order.total += 1


def flow() -> Cadence[Order]:
    return Cadence("checkout", Order()).then("price", price).then("ship", ship)


LINE = re.compile(r"\[cadence\] (\w+): \d+\.\d\d ms")


def test_the_package_and_its_modules_export_the_same_classes() -> None:
    """`from cadence.reporters import X` and `from cadence.reporters.<module> import X` are one class."""
    assert PrometheusReporter is PromFromModule
    assert OpenTelemetryReporter is OtelFromModule
    assert console_module.console_reporter is console_reporter


def test_console_reporter_class_writes_what_the_function_writes() -> None:
    """`ConsoleReporter(file).report` prints the same lines as `console_reporter` to a captured stream."""
    by_class, by_function = io.StringIO(), io.StringIO()
    flow().with_reporter(ConsoleReporter(by_class).report).run_sync()
    flow().with_reporter(lambda n, e, s: console_reporter(n, e, s, file=by_function)).run_sync()
    lines = by_class.getvalue().splitlines()
    assert [LINE.fullmatch(line).group(1) for line in lines if LINE.fullmatch(line)] == [
        "price",
        "ship",
        "checkout",
    ]
    assert len(lines) == 3
    strip = re.compile(r"\d+\.\d\d ms")
    assert strip.sub("T", by_class.getvalue()) == strip.sub("T", by_function.getvalue())


def test_console_reporter_instance_is_itself_a_reporter(capsys: pytest.CaptureFixture[str]) -> None:
    """A `ConsoleReporter()` passed as is writes to the stdout of the moment of each report."""
    flow().with_reporter(ConsoleReporter()).run_sync()
    assert [m.group(1) for m in map(LINE.fullmatch, capsys.readouterr().out.splitlines()) if m] == [
        "price",
        "ship",
        "checkout",
    ]


def test_json_reporter_from_the_console_module() -> None:
    """`json_reporter` writes one JSON object per report."""
    out = io.StringIO()
    flow().with_reporter(lambda n, e, s: json_reporter(n, e, s, file=out)).run_sync()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["note"], r["score_type"]) for r in records] == [
        ("price", "Order"),
        ("ship", "Order"),
        ("checkout", "Order"),
    ]


def test_prometheus_reporter_report_is_read_back_from_a_real_registry() -> None:
    """`PrometheusReporter(prefix=...).report` records each reported duration in prometheus_client."""
    registry = CollectorRegistry()
    reporter = PrometheusReporter(prefix="myapp", registry=registry)
    flow().with_reporter(reporter.report).run_sync()
    flow().with_reporter(reporter.report).run_sync()
    for name in ("price", "ship", "checkout"):
        count = registry.get_sample_value("myapp_reported_duration_seconds_count", {"name": name})
        assert count == 2.0, name
        total = registry.get_sample_value("myapp_reported_duration_seconds_sum", {"name": name})
        assert total is not None
        assert total >= 0.0


def test_opentelemetry_reporter_report_makes_real_sdk_spans() -> None:
    """`OpenTelemetryReporter(service_name=...).report` ends one span per report in the real SDK."""
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reporter = OpenTelemetryReporter(service_name="my-service", tracer_provider=provider)
    reports: list[tuple[str, float]] = []
    flow().with_reporter(reporter.report).with_reporter(lambda n, e, s: reports.append((n, e))).run_sync()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["price", "ship", "checkout"]
    for span, (_, elapsed) in zip(spans, reports, strict=True):
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "my-service"
        assert span.attributes is not None
        assert span.attributes["cadence.service"] == "my-service"
        assert span.attributes["cadence.score_type"] == "Order"
        assert span.start_time is not None
        assert span.end_time is not None
        assert abs((span.end_time - span.start_time) / 1e9 - elapsed) < 1e-6


def test_importing_the_package_loads_neither_library() -> None:
    """`import cadence.reporters` (and its modules) loads no prometheus_client or opentelemetry."""
    code = (
        "import sys, cadence.reporters, cadence.reporters.console, cadence.reporters.prometheus, "
        "cadence.reporters.opentelemetry\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prometheus_client', 'opentelemetry')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
