"""Hooks: every method with its arguments, failing hooks, cancellation, the built-in hooks, the manager."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    Cadence,
    CadenceHooks,
    DebugHooks,
    HooksManager,
    LoggingHooks,
    MetricsHooks,
    NoteError,
    Score,
    Skip,
    TimingHooks,
    TracingHooks,
    retry,
)
from cadence import events as ev
from cadence.hooks import current_run_id


@dataclass
class Order(Score):
    total: int = 0
    log: list[str] = field(default_factory=list)


class Recorder(CadenceHooks):
    """Records every hook call as a tuple (durations replaced by their type)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def before_cadence(self, name: str, score: Any) -> None:
        self.calls.append(("before_cadence", name, score))

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        self.calls.append(("after_cadence", name, score, type(duration), error))

    def before_note(self, name: str, score: Any) -> None:
        self.calls.append(("before_note", name, score))

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        self.calls.append(("after_note", name, score, type(duration), error))

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        self.calls.append(("on_error", name, score, error))

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        self.calls.append(("on_retry", name, score, attempt, max_attempts, error))


class AsyncRecorder(Recorder):
    """The same recorder with ``async def`` methods that really suspend."""

    async def before_cadence(self, name: str, score: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().before_cadence(name, score)

    async def after_cadence(self, *args: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().after_cadence(*args)

    async def before_note(self, name: str, score: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().before_note(name, score)

    async def after_note(self, *args: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().after_note(*args)

    async def on_error(self, *args: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_error(*args)

    async def on_retry(self, *args: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_retry(*args)


def flaky_then_ok() -> Any:
    """An async note failing its first call with ``ValueError``."""
    errors: list[ValueError] = []

    async def fetch(order: Order) -> None:
        if not errors:
            errors.append(ValueError("first"))
            raise errors[0]
        order.total = 1

    return fetch, errors


BOOM = RuntimeError("boom")


def boom(order: Order) -> None:
    raise BOOM


# ---------------------------------------------------------------------------- every method


@pytest.mark.parametrize("hooks_type", [Recorder, AsyncRecorder], ids=["sync", "async"])
async def test_every_method_gets_its_arguments(hooks_type: type[Recorder]) -> None:
    """Each hook method is called in order with (name, score, ...) as the spec lists, sync or async."""
    hooks = hooks_type()
    fetch, errors = flaky_then_ok()
    handled: list[BaseException] = []
    order = Order()
    await (
        Cadence("flow", order)
        .then("fetch", retry(2, delay=0)(fetch))
        .then("boom", boom)
        .on_error(lambda o, e: handled.append(e), stop=False)
        .with_hooks(hooks)
        .run()
    )
    assert hooks.calls == [
        ("before_cadence", "flow", order),
        ("before_note", "fetch", order),
        ("on_retry", "fetch", order, 1, 2, errors[0]),
        ("after_note", "fetch", order, float, None),
        ("before_note", "boom", order),
        ("after_note", "boom", order, float, BOOM),
        ("on_error", "boom", order, BOOM),
        ("after_cadence", "flow", order, float, None),
    ]


async def test_after_cadence_gets_the_error_of_a_failed_run() -> None:
    """A run that fails calls ``after_cadence`` with the error the caller receives."""
    hooks = Recorder()
    with pytest.raises(NoteError) as info:
        await Cadence("flow", Order()).then("boom", boom).with_hooks(hooks).run()
    method, name, _, _, error = hooks.calls[-1]
    assert (method, name) == ("after_cadence", "flow")
    assert error is info.value


async def test_skip_is_not_an_error_for_hooks() -> None:
    """A ``Skip`` calls ``after_note`` without ``on_error`` and ends the run with no error."""
    hooks = Recorder()

    def skip(order: Order) -> None:
        raise Skip("nothing")

    order = await Cadence("flow", Order()).then("skip", skip).with_hooks(hooks).run()
    assert [c[0] for c in hooks.calls] == ["before_cadence", "before_note", "after_note", "after_cadence"]
    assert hooks.calls[-1] == ("after_cadence", "flow", order, float, None)


async def test_hooks_may_implement_only_some_methods() -> None:
    """A plain object with only some hook methods works; the others are simply not called."""
    seen: list[str] = []

    class OnlyNotes:
        def before_note(self, name: str, score: Any) -> None:
            seen.append(name)

    await (
        Cadence("flow", Order())
        .then("a", lambda o: None)
        .then("b", lambda o: None)
        .with_hooks(OnlyNotes())
        .run()
    )
    assert seen == ["a", "b"]


async def test_hooks_know_their_run_id() -> None:
    """Inside a hook ``current_run_id()`` names the run; concurrent runs have distinct ids."""
    ids: dict[int, set[str | None]] = {}

    class Ids(CadenceHooks):
        async def before_note(self, name: str, score: Any) -> None:
            await asyncio.sleep(0)
            ids.setdefault(score.total, set()).add(current_run_id())

    flow = Cadence("flow", Order()).then("a", lambda o: None).then("b", lambda o: None).with_hooks(Ids())
    await asyncio.gather(flow.run(Order(total=1)), flow.run(Order(total=2)))
    assert len(ids[1]) == len(ids[2]) == 1
    assert ids[1] != ids[2]
    assert None not in ids[1] | ids[2]
    assert current_run_id() is None


async def test_with_hooks_appends_lists_and_single_hooks() -> None:
    """``.with_hooks`` appends on every call, given a list or one object; all are called in order."""
    first, second, third = Recorder(), AsyncRecorder(), Recorder()
    flow = Cadence("flow", Order()).with_hooks([first, second]).with_hooks(third).then("a", lambda o: None)
    assert flow.hooks == (first, second, third)
    await flow.run()
    assert first.calls == second.calls == third.calls
    assert len(first.calls) == 4


async def test_child_cadence_hooks_are_called() -> None:
    """A child cadence's own hooks see its notes when the parent is observed."""
    child_hooks = Recorder()
    child = Cadence("child", Order()).then("inner", lambda o: None).with_hooks(child_hooks)
    parent = Cadence("parent", Order()).child("kid", child, lambda p, c: None)
    await parent.run(listeners=[lambda e: None])
    assert [c[:2] for c in child_hooks.calls] == [
        ("before_cadence", "child"),
        ("before_note", "inner"),
        ("after_note", "inner"),
        ("after_cadence", "child"),
    ]


async def test_child_cadence_hooks_are_called_under_a_plain_parent() -> None:
    """A child cadence's own hooks are called even when the parent has no hooks or listeners."""
    child_hooks = Recorder()
    child = Cadence("child", Order()).then("inner", lambda o: None).with_hooks(child_hooks)
    parent = Cadence("parent", Order()).child("kid", child, lambda p, c: None)
    await parent.run()
    assert [c[0] for c in child_hooks.calls] == [
        "before_cadence",
        "before_note",
        "after_note",
        "after_cadence",
    ]


async def test_child_hooks_under_a_plain_parent_know_their_run_id() -> None:
    """Under a parent with nothing observing it, a child's hooks still see a run id."""
    ids: list[str | None] = []

    class Ids(CadenceHooks):
        def before_note(self, name: str, score: Any) -> None:
            ids.append(current_run_id())

    child = Cadence("child", Order()).then("inner", lambda o: None).with_hooks(Ids())
    await Cadence("parent", Order()).child("kid", child, lambda p, c: None).run()
    assert len(ids) == 1
    assert ids[0] is not None


# ---------------------------------------------------------------------------- failing hooks


class Broken(CadenceHooks):
    """Raises from every method it is called in; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> None:
        self.calls += 1
        raise RuntimeError("hook bug")

    def before_cadence(self, name: str, score: Any) -> None:
        self._fail()

    def before_note(self, name: str, score: Any) -> None:
        self._fail()

    async def after_note(self, *args: Any) -> None:  # type: ignore[override]
        self._fail()

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        self._fail()

    def after_cadence(self, *args: Any) -> None:  # type: ignore[override]
        self._fail()


def hook_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cadence.hooks"]


async def test_raising_hook_is_logged_once_and_disabled_for_the_run(caplog: pytest.LogCaptureFixture) -> None:
    """A raising hook leaves the run's result alone, is logged once and not called again in that run."""
    broken, healthy = Broken(), Recorder()
    flow = (
        Cadence("flow", Order())
        .then("a", lambda o: setattr(o, "total", 5))
        .then("b", lambda o: o.log.append("b"))
        .with_hooks([broken, healthy])
    )
    order = await flow.run()
    assert (order.total, order.log) == (5, ["b"])
    assert broken.calls == 1
    assert len(healthy.calls) == 6
    (record,) = hook_logs(caplog)
    assert record.levelno == logging.ERROR
    assert "before_cadence" in record.getMessage()
    assert record.exc_info is not None


async def test_raising_hook_is_called_again_in_the_next_run(caplog: pytest.LogCaptureFixture) -> None:
    """Disabling a raising hook lasts for one run only: the next run calls (and logs) it again."""
    broken = Broken()
    flow = Cadence("flow", Order()).then("a", lambda o: None).with_hooks(broken)
    await flow.run()
    await flow.run()
    assert broken.calls == 2
    assert len(hook_logs(caplog)) == 2


async def test_raising_hook_on_a_failing_run_keeps_the_error(caplog: pytest.LogCaptureFixture) -> None:
    """A hook raising in ``after_note``/``on_error`` of a failing note doesn't change the error raised."""

    class LateBroken(Broken):
        def before_cadence(self, name: str, score: Any) -> None:
            pass

        def before_note(self, name: str, score: Any) -> None:
            pass

    broken = LateBroken()
    with pytest.raises(NoteError) as info:
        await Cadence("flow", Order()).then("boom", boom).with_hooks(broken).run()
    assert info.value.original_error is BOOM
    assert broken.calls == 1
    assert len(hook_logs(caplog)) == 1


async def test_hooks_manager_drops_a_raising_hook(caplog: pytest.LogCaptureFixture) -> None:
    """``HooksManager.call`` awaits async hooks, skips missing methods and drops a raising hook."""
    broken, healthy = Broken(), AsyncRecorder()

    class Empty:
        pass

    manager = HooksManager([broken, Empty()])
    manager.add(healthy)
    assert manager.hooks[-1] is healthy
    await manager.call("before_note", "n", "score")
    await manager.call("before_note", "n", "score")
    assert broken.calls == 1
    assert healthy.calls == [("before_note", "n", "score"), ("before_note", "n", "score")]
    assert len(hook_logs(caplog)) == 1


async def test_hooks_manager_translates_events() -> None:
    """``HooksManager.handle`` turns each event into the matching hook call."""
    hooks = Recorder()
    manager = HooksManager([hooks])
    base = {"run_id": "r", "cadence": "flow", "node_id": "flow/n"}
    error = ValueError("x")
    for event in [
        ev.RunStarted(**base, score="s"),
        ev.NoteStarted(**base, name="n", score="s"),
        ev.RetryAttempt(**base, name="n", attempt=1, max_attempts=3, error=error, score="s"),
        ev.NoteFinished(**base, name="n", score="s", duration=0.5, status="failed", error=error),
        ev.Forked(**base, name="g"),
        ev.RunFinished(**base, score="s", duration=1.0, status="done"),
    ]:
        await manager.handle(event)
    assert hooks.calls == [
        ("before_cadence", "flow", "s"),
        ("before_note", "n", "s"),
        ("on_retry", "n", "s", 1, 3, error),
        ("after_note", "n", "s", float, error),
        ("on_error", "n", "s", error),
        ("after_cadence", "flow", "s", float, None),
    ]


# ---------------------------------------------------------------------------- cancellation


async def test_cancellation_runs_every_after_hook_and_the_reporter() -> None:
    """Cancelling a run calls every after_* hook with the CancelledError and the reporter, then raises."""
    sync_hooks, async_hooks = Recorder(), AsyncRecorder()
    reports: list[tuple[str, Any]] = []
    started = asyncio.Event()

    async def hang(order: Order) -> None:
        started.set()
        await asyncio.Event().wait()

    async def reporter(name: str, elapsed: float, score: Any) -> None:
        await asyncio.sleep(0)
        reports.append((name, score))

    order = Order()
    flow = (
        Cadence("flow", order)
        .then("first", lambda o: None)
        .then("hang", hang)
        .then("never", lambda o: o.log.append("never"))
        .with_hooks([sync_hooks, async_hooks])
        .with_reporter(reporter)
    )
    task = asyncio.create_task(flow.run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for hooks in (sync_hooks, async_hooks):
        assert [c[:2] for c in hooks.calls] == [
            ("before_cadence", "flow"),
            ("before_note", "first"),
            ("after_note", "first"),
            ("before_note", "hang"),
            ("after_note", "hang"),
            ("after_cadence", "flow"),
        ]
        assert isinstance(hooks.calls[4][-1], asyncio.CancelledError)
        assert isinstance(hooks.calls[5][-1], asyncio.CancelledError)
    assert reports == [("first", order), ("hang", order), ("flow", order)]
    assert order.log == []


# ---------------------------------------------------------------------------- built-in hooks


async def test_logging_hooks_log_starts_ends_failures_and_retries(caplog: pytest.LogCaptureFixture) -> None:
    """``LoggingHooks`` logs each cadence and note start and end, retries and failures."""
    caplog.set_level(logging.INFO, logger="cadence")
    fetch, _ = flaky_then_ok()
    flow = (
        Cadence("flow", Order())
        .then("fetch", retry(2, delay=0)(fetch))
        .then("boom", boom)
        .with_hooks(LoggingHooks())
    )
    with pytest.raises(NoteError):
        await flow.run()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "cadence"]
    assert [level for level, _ in lines] == ["INFO", "INFO", "WARNING", "INFO", "INFO", "ERROR", "WARNING"]
    assert all(re.match(r"\[[0-9a-f]{8} flow(/\w+)?\] ", m) for _, m in lines)  # run and node ids
    messages = [m.split("] ", 1)[1] for _, m in lines]
    assert messages[0] == "cadence flow started"
    assert messages[1] == "note fetch started"
    assert messages[2] == "note fetch attempt 1/2 failed: first"
    assert re.fullmatch(r"note fetch finished in \d+\.\d ms", messages[3])
    assert messages[4] == "note boom started"
    assert messages[5] == "note boom failed: boom"
    assert messages[6].startswith("cadence flow failed after ")


async def test_logging_hooks_use_the_given_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    """``LoggingHooks(logger, level)`` logs successes at that level on that logger."""
    caplog.set_level(logging.DEBUG, logger="shop")
    await (
        Cadence("flow", Order())
        .then("a", lambda o: None)
        .with_hooks(LoggingHooks(logging.getLogger("shop"), logging.DEBUG))
        .run()
    )
    records = [r for r in caplog.records if r.name == "shop"]
    assert len(records) == 4
    assert {r.levelno for r in records} == {logging.DEBUG}


async def test_timing_hooks_collect_durations_across_runs() -> None:
    """``TimingHooks`` keeps every note and cadence duration and summarises them."""
    timing = TimingHooks()
    flow = Cadence("flow", Order()).then("a", lambda o: None).then("b", lambda o: None).with_hooks(timing)
    await flow.run()
    await flow.run()
    assert set(timing.timings) == {"a", "b", "flow"}
    assert all(len(d) == 2 and all(x >= 0 for x in d) for d in timing.timings.values())
    summary = timing.summary()
    assert summary["flow"]["count"] == 2
    assert summary["a"]["total"] == pytest.approx(sum(timing.timings["a"]))
    assert summary["a"]["max"] >= summary["a"]["mean"]


async def test_metrics_hooks_count_calls_errors_retries_and_runs() -> None:
    """``MetricsHooks`` counts note calls, errors, retries, runs and failed runs."""
    metrics = MetricsHooks()
    fetch, _ = flaky_then_ok()
    good = Cadence("good", Order()).then("fetch", retry(2, delay=0)(fetch)).with_hooks(metrics)
    bad = Cadence("bad", Order()).then("ok", lambda o: None).then("boom", boom).with_hooks(metrics)
    await good.run()
    with pytest.raises(NoteError):
        await bad.run()
    assert dict(metrics.calls) == {"fetch": 1, "ok": 1, "boom": 1}
    assert dict(metrics.errors) == {"boom": 1}
    assert dict(metrics.retries) == {"fetch": 1}
    assert dict(metrics.runs) == {"good": 1, "bad": 1}
    assert dict(metrics.failed_runs) == {"bad": 1}


async def test_debug_hooks_print_the_score_around_each_note(capsys: pytest.CaptureFixture[str]) -> None:
    """``DebugHooks`` prints the score before and after each note, to stderr by default."""
    await (
        Cadence("flow", Order()).then("add", lambda o: setattr(o, "total", 3)).with_hooks(DebugHooks()).run()
    )
    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\[cadence [0-9a-f]{8}\] → add: Order\(total=0, log=\[\]\)", err[0])
    assert re.fullmatch(r"\[cadence [0-9a-f]{8}\] ← add \(\d+\.\d\d ms\): Order\(total=3, log=\[\]\)", err[1])


async def test_debug_hooks_print_failures_to_the_given_file() -> None:
    """``DebugHooks(file=...)`` writes there, showing the error of a failed note."""
    out = io.StringIO()
    with pytest.raises(NoteError):
        await Cadence("flow", Order()).then("boom", boom).with_hooks(DebugHooks(out)).run()
    assert (
        out.getvalue().splitlines()[1].split("] ", 1)[1]
        == "← boom (failed: RuntimeError('boom')): Order(total=0, log=[])"
    )


class FakeSpan:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.errors: list[BaseException] = []

    def record_exception(self, error: BaseException) -> None:
        self.errors.append(error)

    def end(self) -> None:
        self.log.append(f"end {self.name}")


class FakeTracer:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.spans: list[FakeSpan] = []

    def start_span(self, name: str, attributes: dict[str, str]) -> FakeSpan:
        self.log.append(f"start {name}")
        self.spans.append(FakeSpan(name, self.log))
        return self.spans[-1]


async def test_tracing_hooks_open_and_close_nested_spans() -> None:
    """``TracingHooks`` starts a span per cadence and note, ends each, and records a note's error."""
    tracer = FakeTracer()
    with pytest.raises(NoteError):
        await (
            Cadence("flow", Order())
            .then("a", lambda o: None)
            .then("boom", boom)
            .with_hooks(TracingHooks(tracer))
            .run()
        )
    assert tracer.log == [
        "start cadence flow",
        "start note a",
        "end note a",
        "start note boom",
        "end note boom",
        "end cadence flow",
    ]
    assert tracer.spans[2].errors == [BOOM]


class EventHook:
    """A hook with ``on_event`` only (sync or async)."""

    def __init__(self, *, is_async: bool = False) -> None:
        self.kinds: list[str] = []
        self.is_async = is_async

    def on_event(self, event: ev.Event) -> Any:
        if not self.is_async:
            self.kinds.append(event.kind)
            return None

        async def record() -> None:
            await asyncio.sleep(0)
            self.kinds.append(event.kind)

        return record()


@pytest.mark.parametrize("is_async", [False, True])
async def test_on_event_receives_every_event_of_the_run(is_async: bool) -> None:
    """A hook defining ``on_event`` (sync or async) gets the whole stream, children included."""
    hook = EventHook(is_async=is_async)
    everything: list[str] = []
    child = Cadence("inner", Order()).then("x", lambda o: None)
    flow = (
        Cadence("flow", Order())
        .then("a", lambda o: None)
        .sync("group", [lambda o: None, lambda o: None])
        .child("sub", child, lambda p, c: None)
        .with_hooks(hook)
    )
    await flow.run(listeners=[lambda e: everything.append(e.kind)])
    assert hook.kinds == everything
    assert hook.kinds[0] == "run_started"
    assert hook.kinds[-1] == "run_finished"
    assert {"forked", "merged", "child_entered", "child_left", "note_started"} <= set(hook.kinds)


async def test_a_raising_on_event_is_logged_once_and_disabled_for_the_run(caplog: Any) -> None:
    """``on_event`` follows the hook rule: the run goes on, one log record, no further calls."""
    calls: list[str] = []

    class Broken(CadenceHooks):
        def on_event(self, event: ev.Event) -> None:
            calls.append(event.kind)
            raise RuntimeError("broken hook")

        def after_note(self, name: str, score: Any, *rest: Any) -> None:
            calls.append("after_note")

    flow = Cadence("flow", Order()).then("a", lambda o: None).then("b", lambda o: None).with_hooks(Broken())
    with caplog.at_level(logging.ERROR, logger="cadence.hooks"):
        await flow.run()
        await flow.run()  # disabled for one run only
    assert calls == ["run_started", "run_started"]
    assert len([r for r in caplog.records if "on_event" in r.getMessage()]) == 2
