"""The real worker process: loads user modules, runs and steps cadences, survives broken code."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui.client import WorkerClient

ROOT = Path(__file__).resolve().parents[2]
M = TypeVar("M")


async def next_of(client: WorkerClient, kind: type[M], timeout: float = 15.0) -> M:
    """The next message of ``kind`` (others are skipped)."""

    async def find() -> M:
        async for message in client.messages():
            if isinstance(message, kind):
                return message
        raise AssertionError("unreachable")

    return await asyncio.wait_for(find(), timeout)


async def collect_until(
    client: WorkerClient,
    done: Callable[[p.Message], bool],
    timeout: float = 15.0,
) -> list[p.Message]:
    seen: list[p.Message] = []

    async def gather() -> list[p.Message]:
        async for message in client.messages():
            seen.append(message)
            if done(message):
                return seen
        return seen

    return await asyncio.wait_for(gather(), timeout)


@pytest.fixture
async def shop() -> AsyncIterator[WorkerClient]:
    client = WorkerClient("examples/shop.py", cwd=ROOT)
    await client.start()
    yield client
    await client.close(grace=1.0)


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


async def test_loads_examples_shop_and_lists_cadences_and_factories(shop: WorkerClient) -> None:
    """The catalog has the module-level cadence and the factories, with graphs and scores."""
    ready = await next_of(shop, p.Ready)
    assert ready.module == "examples.shop"
    catalog = await next_of(shop, p.Catalog)
    entries = {e.name: e for e in catalog.entries}
    assert entries["checkout"].kind == "cadence"
    assert entries["create_checkout_cadence"].kind == "factory"
    assert [prm.name for prm in entries["create_checkout_cadence"].params] == ["user_id", "cart_id"]
    assert entries["checkout"].graph is not None
    assert entries["checkout"].graph["id"] == "checkout"
    assert entries["checkout"].score["t"] == "CheckoutScore"
    assert entries["checkout"].score_schema is not None


async def test_runs_to_the_end_with_events_and_final_score(shop: WorkerClient) -> None:
    """A run streams every event with scores and ends done."""
    await next_of(shop, p.Catalog)
    await shop.send(p.Run(target="checkout"))
    seen = await collect_until(shop, lambda m: isinstance(m, p.RunEnded))
    kinds = [m.event["kind"] for m in seen if isinstance(m, p.EventMessage)]
    assert kinds[0] == "run_started"
    assert {"note_finished", "merged", "branch_taken", "child_entered", "child_left", "retry_attempt"} <= set(
        kinds
    )
    merged = next(m for m in seen if isinstance(m, p.EventMessage) and m.event["kind"] == "merged")
    assert merged.snapshots is not None
    assert len(merged.snapshots) == 3
    end = seen[-1]
    assert isinstance(end, p.RunEnded)
    assert end.status == "done"
    fields = dict(end.score["c"])
    assert fields["status"]["r"] == "'completed'"


async def test_breakpoint_step_and_continue(shop: WorkerClient) -> None:
    """The run holds at a breakpoint, steps one note, then continues to the end."""
    await next_of(shop, p.Catalog)
    await shop.send(p.Run(target="checkout", breakpoints=["checkout/pricing/apply_discounts"]))
    paused = await next_of(shop, p.Paused)
    assert paused.node_id == "checkout/pricing/apply_discounts"
    assert dict(paused.score["c"])["subtotal"]["r"] != "0"
    await shop.send(p.Step())
    nxt = await next_of(shop, p.Paused)
    assert nxt.node_id == "checkout/pricing/quote_shipping"
    await shop.send(p.Continue())
    end = await next_of(shop, p.RunEnded)
    assert end.status == "done"


async def test_steps_through_a_sync_group_one_task_at_a_time(shop: WorkerClient) -> None:
    """Stepping pauses at the fork, then at each parallel note in turn (all three held at once)."""
    await next_of(shop, p.Catalog)
    await shop.send(p.Run(target="checkout", pause_at_start=True))
    visited: list[str] = []
    held_sets: list[list[str]] = []
    while len(visited) < 6:
        paused = await next_of(shop, p.Paused)
        if visited and paused.node_id == visited[-1]:
            held_sets[-1] = paused.held  # more parallel notes arrived at their checkpoints
            continue
        visited.append(paused.node_id)
        held_sets.append(paused.held)
        await asyncio.sleep(0.1)  # let every parallel note reach its checkpoint
        await shop.send(p.Step())
    assert visited == [
        "checkout/load_cart",
        "checkout/enrich",
        "checkout/enrich/fetch_customer",
        "checkout/enrich/check_inventory",
        "checkout/enrich/score_fraud_risk",
        "checkout/risk_review",
    ]
    assert held_sets[2] == [
        "checkout/enrich/fetch_customer",
        "checkout/enrich/check_inventory",
        "checkout/enrich/score_fraud_risk",
    ]
    await shop.send(p.Stop())
    end = await next_of(shop, p.RunEnded)
    assert end.status == "stopped"


async def test_factory_arguments_are_validated_and_named(shop: WorkerClient) -> None:
    """A factory runs with given arguments; an unknown argument is refused by name."""
    await next_of(shop, p.Catalog)
    await shop.send(p.Run(target="create_checkout_cadence", args={"user_id": "u-9"}))
    end = await next_of(shop, p.RunEnded)
    assert end.status == "done"
    assert dict(end.score["c"])["user_id"]["r"] == "'u-9'"
    await shop.send(p.Run(target="create_checkout_cadence", args={"colour": "red"}))
    refused = await next_of(shop, p.WorkerError)
    assert "colour" in refused.message


async def test_invalid_score_input_is_refused_naming_the_field(shop: WorkerClient) -> None:
    """Input validated against the score type: a bad field is named, nothing runs."""
    await next_of(shop, p.Catalog)
    await shop.send(p.Run(target="checkout", score={"user_id": "u-1", "subtotal": "lots"}))
    refused = await next_of(shop, p.WorkerError)
    assert "subtotal" in refused.message
    end = await next_of(shop, p.RunEnded)
    assert end.status == "refused"


async def test_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    """A module with a syntax error gives load_failed with the file and line, no crash."""
    write(tmp_path, "broken.py", "from cadence import Cadence\nx = (\n")
    client = WorkerClient("broken.py", cwd=tmp_path)
    await client.start()
    failed = await next_of(client, p.LoadFailed)
    assert failed.error.type == "SyntaxError"
    assert failed.error.line == 2
    assert failed.error.file is not None
    assert failed.error.file.endswith("broken.py")
    assert "was never closed" in failed.error.traceback
    await client.close()


async def test_import_error_and_raising_module_are_reported(tmp_path: Path) -> None:
    """A missing dependency and a module that raises both come back as load_failed with hints."""
    write(tmp_path, "needs.py", "import not_a_real_package_xyz\n")
    write(tmp_path, "raises.py", "raise RuntimeError('config missing')\n")
    for name, text in (("needs.py", "not_a_real_package_xyz"), ("raises.py", "config missing")):
        client = WorkerClient(name, cwd=tmp_path)
        await client.start()
        failed = await next_of(client, p.LoadFailed)
        assert text in failed.error.message
        assert failed.hint
        await client.close()


CRASHY = """
    import os, time
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def talk(s):
        print("hello from the note")
        s.n = 1

    def boom(s):
        raise ValueError("bad sku")

    def die(s):
        os._exit(7)

    def hang(s):
        while True:
            time.sleep(0.05)

    prints = Cadence("prints", S()).then("talk", talk)
    raises = Cadence("raises", S()).then("talk", talk).then("boom", boom)
    crashes = Cadence("crashes", S()).then("die", die)
    hangs = Cadence("hangs", S()).then("hang", hang)
"""


@pytest.fixture
async def crashy(tmp_path: Path) -> AsyncIterator[WorkerClient]:
    write(tmp_path, "crashy.py", CRASHY)
    client = WorkerClient("crashy.py", cwd=tmp_path)
    await client.start()
    await next_of(client, p.Catalog)
    yield client
    await client.close()


async def test_prints_become_log_messages(crashy: WorkerClient) -> None:
    """What a note prints comes back as a log message, never breaking the protocol."""
    await crashy.send(p.Run(target="prints"))
    seen = await collect_until(crashy, lambda m: isinstance(m, p.RunEnded))
    logs = "".join(m.text for m in seen if isinstance(m, p.Log))
    assert "hello from the note" in logs
    assert isinstance(seen[-1], p.RunEnded)
    assert seen[-1].status == "done"


async def test_a_raising_note_fails_the_run_at_its_line(crashy: WorkerClient) -> None:
    """The error points into the user's file with a traceback; the worker keeps serving."""
    await crashy.send(p.Run(target="raises"))
    end = await next_of(crashy, p.RunEnded)
    assert end.status == "failed"
    assert end.error is not None
    assert end.error.file is not None
    assert end.error.file.endswith("crashy.py")
    assert "bad sku" in end.error.traceback
    await crashy.send(p.Run(target="prints"))
    assert (await next_of(crashy, p.RunEnded)).status == "done"


async def test_a_note_that_exits_costs_only_the_worker(crashy: WorkerClient) -> None:
    """os._exit in a note ends the worker; the client reports it and a new worker works."""
    await crashy.send(p.Run(target="crashes"))
    exited = await next_of(crashy, p.WorkerExited)
    assert exited.returncode == 7
    await crashy.restart()
    await next_of(crashy, p.Catalog)
    await crashy.send(p.Run(target="prints"))
    assert (await next_of(crashy, p.RunEnded)).status == "done"


async def test_a_hanging_sync_note_is_stopped_by_replacing_the_worker(crashy: WorkerClient) -> None:
    """A note that never returns blocks its worker; replacing the worker gets a working one."""
    await crashy.send(p.Run(target="hangs"))
    await asyncio.sleep(0.3)
    await crashy.send(p.Stop())
    with pytest.raises(TimeoutError):
        await next_of(crashy, p.RunEnded, timeout=1.0)
    await crashy.restart()
    await next_of(crashy, p.Catalog)
    await crashy.send(p.Run(target="prints"))
    assert (await next_of(crashy, p.RunEnded)).status == "done"


async def test_stop_is_heard_while_notes_that_never_wait_run(tmp_path: Path) -> None:
    """``async def`` notes with no real ``await`` never give the worker's loop back by themselves: the
    run still hears ``stop`` mid-way (it used to run to ``done`` first; the studio then replaced the
    worker after its grace), and stops with the notes that finished before it."""
    notes = 5000
    write(
        tmp_path,
        "busy.py",
        f"""
        from dataclasses import dataclass
        from cadence import Cadence, Score

        @dataclass
        class Tally(Score):
            count: int = 0

        async def bump(score: Tally) -> None:
            score.count += 1

        busy = Cadence("busy", Tally())
        for _i in range({notes}):
            busy.then(f"n{{_i}}", bump)
        """,
    )
    client = WorkerClient("busy.py", cwd=tmp_path)
    await client.start()
    try:
        await next_of(client, p.Catalog)
        await client.send(p.Run(target="busy"))
        await collect_until(
            client, lambda m: isinstance(m, p.EventMessage) and m.event["kind"] == "note_finished"
        )
        await client.send(p.Stop())
        seen = await collect_until(client, lambda m: isinstance(m, p.RunEnded), timeout=60)
        end = seen[-1]
        assert isinstance(end, p.RunEnded)
        assert end.status == "stopped", f"the run went on to {end.status!r} after the stop"
        finished = [m for m in seen if isinstance(m, p.EventMessage) and m.event["kind"] == "note_finished"]
        assert len(finished) < notes - 1
        assert dict(end.score["c"])["count"]["r"] == str(len(finished) + 1)  # one before the collect
    finally:
        await client.close(grace=1.0)


def test_protocol_round_trips() -> None:
    """Every command and message survives encode/decode."""
    items: list[Any] = [
        p.Run(target="x", args={"a": 1}),
        p.Step(),
        p.SetBreakpoints(ids=["a/b"]),
        p.Shutdown(),
    ]
    for item in items:
        assert p.decode_command(p.encode(item)) == item
    message = p.Paused(run=1, kind="note", node_id="a/b", name="b", held=["a/b"])
    assert p.decode_message(p.encode(message)) == message


async def test_check_score_names_the_bad_field_without_running(shop: WorkerClient) -> None:
    """CheckScore validates an edited score against the score type and runs nothing."""
    await next_of(shop, p.Catalog)
    await shop.send(p.CheckScore(target="checkout", score={"user_id": "u-1", "subtotal": "lots"}))
    checked = await next_of(shop, p.ScoreChecked)
    assert checked.fields == ["subtotal"]
    assert checked.error is not None
    assert "subtotal" in checked.error
    await shop.send(p.CheckScore(target="checkout", score={"user_id": "u-1"}))
    assert (await next_of(shop, p.ScoreChecked)).error is None
