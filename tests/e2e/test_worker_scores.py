"""Scores holding things that cannot be copied or written as JSON (a lock, a generator) run in the worker."""

from __future__ import annotations

import asyncio
import importlib.util
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui.client import WorkerClient
from tests.e2e.test_worker import collect_until, next_of

LOCKED = """
    import threading
    from dataclasses import dataclass, field
    from typing import Any
    from cadence import Cadence, Score

    def counter():
        n = 0
        while True:
            n += 1
            yield n

    @dataclass
    class S(Score):
        n: int = 0
        lock: Any = field(default_factory=threading.Lock)
        ids: Any = field(default_factory=counter)
        total: int = 0

    def take(s):
        with s.lock:
            s.n = next(s.ids)

    def add(s):
        s.total += 10

    def more(s):
        s.total += next(s.ids)

    c = Cadence("c", S()).then("take", take).sync("group", [add]).then("more", more)

    @dataclass
    class Bare(Score):
        lock: Any
        n: int = 0

    def count(s):
        with s.lock:
            s.n += 1

    bare = Cadence("bare", Bare(threading.Lock())).then("count", count)
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "locked.py"
    path.write_text(textwrap.dedent(LOCKED))
    return path


@pytest.fixture
async def locked(module: Path) -> AsyncIterator[WorkerClient]:
    client = WorkerClient(module.name, cwd=module.parent)
    await client.start()
    yield client
    await client.close(grace=1.0)


def fields(tree: Any) -> dict[str, str]:
    return {key: node["r"] for key, node in tree["c"]}


async def engine_result(module: Path) -> dict[str, str]:
    """What the engine itself gives for a fresh score (the reprs of the plain fields)."""
    spec = importlib.util.spec_from_file_location("locked_for_engine", module)
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    result = await loaded.c.run(loaded.S())
    return {"n": repr(result.n), "total": repr(result.total)}


async def test_lock_and_generator_fields_run_to_the_end_like_the_engine(
    locked: WorkerClient, module: Path
) -> None:
    """Every run starts from a fresh score, ends as the engine's does, and shows those fields by repr."""
    catalog = await next_of(locked, p.Catalog)
    entry = next(e for e in catalog.entries if e.name == "c")
    assert fields(entry.score)["lock"].startswith("<unlocked _thread.lock object at ")
    expected = await engine_result(module)
    assert expected == {"n": "1", "total": "12"}
    for _ in range(2):  # the second run gets a new generator too (from the field's default_factory)
        await locked.send(p.Run(target="c"))
        seen = await collect_until(locked, lambda m: isinstance(m, p.RunEnded | p.WorkerExited))
        end = seen[-1]
        assert isinstance(end, p.RunEnded), end
        assert end.status == "done", end.error
        shown = fields(end.score)
        assert {"n": shown["n"], "total": shown["total"]} == expected
        assert shown["lock"].startswith("<unlocked _thread.lock object at ")
        assert shown["ids"].startswith("<generator object counter at ")
        merged = next(m for m in seen if isinstance(m, p.EventMessage) and m.event["kind"] == "merged")
        assert merged.snapshots is not None
        assert fields(merged.snapshots[0])["lock"].startswith("<unlocked _thread.lock object at ")


async def test_stepping_through_shows_the_fields_at_every_pause(locked: WorkerClient) -> None:
    """Paused scores hold the lock and the generator by repr; Expand on them answers, the run ends."""
    await next_of(locked, p.Catalog)
    await locked.send(p.Run(target="c", pause_at_start=True))
    visited = []
    while len(visited) < 4:
        paused = await next_of(locked, p.Paused)
        if visited and paused.node_id == visited[-1]:
            continue
        visited.append(paused.node_id)
        assert fields(paused.score)["ids"].startswith("<generator object counter at ")
        await locked.send(p.Expand(path=["lock"]))
        expanded = await next_of(locked, p.Expanded)
        assert expanded.error is None
        assert expanded.tree["r"].startswith("<unlocked _thread.lock object at ")
        await asyncio.sleep(0.05)
        await locked.send(p.Step())
    assert visited == ["c/take", "c/group", "c/group/add", "c/more"]
    end = await next_of(locked, p.RunEnded)
    assert end.status == "done"
    assert fields(end.score)["total"] == "12"


async def test_a_field_without_default_factory_is_shared_and_named(locked: WorkerClient) -> None:
    """A lock given at construction (no factory) is shared by the runs; the worker says so, naming it."""
    await next_of(locked, p.Catalog)
    for _ in range(2):  # each run copies n (it starts at 0 again) and shares the lock
        await locked.send(p.Run(target="bare"))
        seen = await collect_until(locked, lambda m: isinstance(m, p.RunEnded | p.WorkerExited))
        end = seen[-1]
        assert isinstance(end, p.RunEnded), end
        assert end.status == "done", end.error
        assert fields(end.score)["n"] == "1"
        logs = "".join(m.text for m in seen if isinstance(m, p.Log))
        assert "score.lock: a lock cannot be copied" in logs
        assert "every run shares the cadence's own" in logs


async def test_json_input_leaves_those_fields_out_and_names_them_when_given(locked: WorkerClient) -> None:
    """The input to edit has no lock or generator; input setting one is refused naming it and the fix."""
    catalog = await next_of(locked, p.Catalog)
    entry = next(e for e in catalog.entries if e.name == "c")
    assert entry.score_json == {"n": 0, "total": 0}
    assert entry.score_kept == {"lock": "_thread.lock", "ids": "generator"}
    await locked.send(p.CheckScore(target="c", score={"n": 2, "lock": "<unlocked _thread.lock object>"}))
    checked = await next_of(locked, p.ScoreChecked)
    assert checked.fields == ["lock"]
    assert checked.error is not None
    assert "score.lock holds a _thread.lock, which JSON cannot give" in checked.error
    assert "leave 'lock' out of the input" in checked.error
    await locked.send(p.Run(target="c", score={"n": 5, "total": 100}))
    end = await next_of(locked, p.RunEnded)
    assert end.status == "done", end.error
    assert fields(end.score)["total"] == "112"
    await locked.send(p.Run(target="bare", score={"n": 5}))  # a required field JSON cannot give
    end = await next_of(locked, p.RunEnded)
    assert end.status == "done", end.error
    assert fields(end.score)["n"] == "6"
