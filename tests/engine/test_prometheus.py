"""``PrometheusReporter`` with the real ``prometheus_client``: output parsed back, checked value by value."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cadence import Cadence, NoteError, Score, retry
from cadence.reporters import PrometheusReporter


@dataclass
class Order(Score):
    total: int = 0
    tags: list[str] = field(default_factory=list)
    fail: bool = False


@dataclass
class Pay(Score):
    paid: bool = False


def load(o: Order) -> None:
    o.total += 10


async def tag_a(o: Order) -> None:
    o.tags.append("a")


async def tag_b(o: Order) -> None:
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
        if len(calls) == 1:
            raise ConnectionError("flaky")

    return flaky


def build(reporter: Any) -> Cadence[Order]:
    payment = Cadence("payment", Pay()).then("charge", charge)
    return (
        Cadence("checkout", Order())
        .then("load", load)
        .sync("tag", [tag_a, tag_b], merge_strategy=_smart())
        .split("route", big, express)
        .child("pay", payment, merge_pay)
        .then("flaky", make_flaky())
        .then("explode", explode)
        .with_hooks(reporter)
    )


def _smart() -> Any:
    from cadence import MergeStrategy

    return MergeStrategy.smart_merge


def samples(registry: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the registry, parsed back from the text exposition format."""
    text = generate_latest(registry).decode()
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(data: dict[Any, float], metric: str, /, **labels: str) -> float | None:
    return data.get((metric, frozenset(labels.items())))


async def test_metrics_of_successful_and_failing_runs_value_by_value() -> None:
    registry = CollectorRegistry()
    reporter = PrometheusReporter(prefix="shop", registry=registry)
    flow = build(reporter)
    done = await flow.run(Order())
    assert sorted(done.tags) == ["a", "b", "express", "paid"]
    with pytest.raises(NoteError):
        await build(reporter).run(Order(fail=True))

    data = samples(registry)
    # counts by status
    for note in ("load", "tag_a", "tag_b", "express", "flaky"):
        assert value(data, "shop_notes_total", cadence="checkout", note=note, status="done") == 2.0
    assert value(data, "shop_notes_total", cadence="payment", note="charge", status="done") == 2.0
    assert value(data, "shop_notes_total", cadence="checkout", note="explode", status="done") == 1.0
    assert value(data, "shop_notes_total", cadence="checkout", note="explode", status="failed") == 1.0
    assert value(data, "shop_cadence_runs_total", cadence="checkout", status="done") == 1.0
    assert value(data, "shop_cadence_runs_total", cadence="checkout", status="failed") == 1.0
    assert value(data, "shop_cadence_runs_total", cadence="payment", status="done") == 2.0
    # errors by type
    assert value(data, "shop_errors_total", cadence="checkout", note="explode", error_type="KeyError") == 1.0
    assert [k for k in data if k[0] == "shop_errors_total"] == [
        (
            "shop_errors_total",
            frozenset({("cadence", "checkout"), ("note", "explode"), ("error_type", "KeyError")}),
        )
    ]
    # retries: one failed attempt per run
    assert value(data, "shop_retries_total", cadence="checkout", note="flaky") == 2.0
    # histograms: one observation per note run and per cadence run
    assert value(data, "shop_note_duration_seconds_count", cadence="checkout", note="load") == 2.0
    assert value(data, "shop_note_duration_seconds_count", cadence="checkout", note="explode") == 2.0
    assert value(data, "shop_note_duration_seconds_count", cadence="payment", note="charge") == 2.0
    assert value(data, "shop_cadence_duration_seconds_count", cadence="checkout") == 2.0
    assert value(data, "shop_cadence_duration_seconds_count", cadence="payment") == 2.0
    inf = value(data, "shop_note_duration_seconds_bucket", cadence="checkout", note="load", le="+Inf")
    assert inf == 2.0
    total = value(data, "shop_cadence_duration_seconds_sum", cadence="checkout")
    assert total is not None
    assert total > 0
    # in-flight back to 0, counted for the outer cadence only
    assert value(data, "shop_in_flight", cadence="checkout") == 0.0
    assert value(data, "shop_in_flight", cadence="payment") is None


async def test_in_flight_counts_running_cadences_and_never_goes_negative() -> None:
    registry = CollectorRegistry()
    reporter = PrometheusReporter(prefix="live", registry=registry)
    release = asyncio.Event()
    seen: list[float | None] = []

    async def wait(o: Order) -> None:
        await release.wait()

    flow = Cadence("slow", Order()).then("wait", wait).with_hooks(reporter)
    runs = [asyncio.ensure_future(flow.run(Order())) for _ in range(3)]
    for _ in range(20):
        await asyncio.sleep(0)
    seen.append(value(samples(registry), "live_in_flight", cadence="slow"))
    release.set()
    await asyncio.gather(*runs)
    # a stray RunFinished for a run this reporter never saw start does not decrement
    from cadence import events as ev

    reporter.on_event(ev.RunFinished(run_id="unknown", cadence="slow", node_id="slow"))
    data = samples(registry)
    assert seen == [3.0]
    assert value(data, "live_in_flight", cadence="slow") == 0.0
    assert value(data, "live_cadence_runs_total", cadence="slow", status="done") == 4.0  # 3 + the stray one


async def test_concurrent_runs_on_one_instance() -> None:
    registry = CollectorRegistry()
    reporter = PrometheusReporter(prefix="conc", registry=registry)
    flows = [build(reporter) for _ in range(2)]
    results = await asyncio.gather(
        *(flows[i % 2].run(Order(fail=i % 5 == 0)) for i in range(50)), return_exceptions=True
    )
    failures = sum(isinstance(r, NoteError) for r in results)
    assert failures == 10
    data = samples(registry)
    assert value(data, "conc_cadence_runs_total", cadence="checkout", status="done") == 40.0
    assert value(data, "conc_cadence_runs_total", cadence="checkout", status="failed") == 10.0
    assert value(data, "conc_errors_total", cadence="checkout", note="explode", error_type="KeyError") == 10.0
    assert value(data, "conc_note_duration_seconds_count", cadence="checkout", note="tag_a") == 50.0
    assert value(data, "conc_in_flight", cadence="checkout") == 0.0


async def test_two_prefixes_coexist_and_a_duplicate_prefix_is_refused() -> None:
    registry = CollectorRegistry()
    first = PrometheusReporter(prefix="one", registry=registry)
    second = PrometheusReporter(prefix="two", registry=registry)
    await Cadence("c", Order()).then("load", load).with_hooks([first, second]).run()
    data = samples(registry)
    assert value(data, "one_notes_total", cadence="c", note="load", status="done") == 1.0
    assert value(data, "two_notes_total", cadence="c", note="load", status="done") == 1.0
    with pytest.raises(ValueError, match="prefix 'one' is already registered"):
        PrometheusReporter(prefix="one", registry=registry)
    # the refused reporter left nothing behind: the registry still exposes the same families
    assert samples(registry) == data


async def test_classic_reporter_signature_observes_durations_only() -> None:
    registry = CollectorRegistry()
    reporter = PrometheusReporter(prefix="classic", registry=registry)
    await Cadence("c", Order()).then("load", load).then("tag", tag_a).with_reporter(reporter.report).run()
    data = samples(registry)
    assert value(data, "classic_reported_duration_seconds_count", name="load") == 1.0
    assert value(data, "classic_reported_duration_seconds_count", name="tag") == 1.0
    assert value(data, "classic_reported_duration_seconds_count", name="c") == 1.0
    assert not [k for k in data if k[0] == "classic_notes_total"]


def test_missing_prometheus_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'cadence-studio\[prometheus\]'"):
        PrometheusReporter(registry=CollectorRegistry())


async def test_events_in_their_json_form_give_the_same_metrics() -> None:
    """``on_event_data`` (events that crossed a process boundary as JSON) matches ``on_event`` exactly."""
    import json

    direct = PrometheusReporter(prefix="shop", registry=CollectorRegistry())
    relayed = PrometheusReporter(prefix="shop", registry=CollectorRegistry())

    class Relay:
        def on_event(self, event: Any) -> None:
            relayed.on_event_data(json.loads(json.dumps(event.as_dict(), default=str)))

    for fail in (False, True, False):
        flow = build(direct).with_hooks(Relay())
        if fail:
            with pytest.raises(NoteError):
                await flow.run(Order(fail=True))
        else:
            await flow.run(Order())
    got, want = samples(relayed.registry), samples(direct.registry)

    def values(data: dict[Any, float]) -> dict[Any, float]:  # *_created: when a series first appeared
        return {k: v for k, v in data.items() if not k[0].endswith("_created")}

    assert values(got) == values(want)
    assert got.keys() == want.keys()
    assert value(got, "shop_errors_total", cadence="checkout", note="explode", error_type="KeyError") == 1.0
    assert value(got, "shop_retries_total", cadence="checkout", note="flaky") == 3.0
    assert value(got, "shop_in_flight", cadence="checkout") == 0.0
