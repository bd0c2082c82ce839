"""How the studio reads its worker's pipe: the catalog in one go, a fast run's events a slice at a time.

Before the catalog nothing is to be drawn, and the first frame should have the graph: the lines the
worker wrote before the UI was up are decoded without letting the loop in (issue 18: letting it in
there put the catalog one frame later). After it, a burst of a fast run's events lets the loop in every
``READ_SLICE`` seconds, so that a key (x) does not wait for thousands of lines to be decoded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui import client as client_module
from cadence_studio.ui.client import WorkerClient
from tests.studio.scripted import entry, event, order_tree


class Piped:
    """A worker process whose pipe already holds ``lines`` (as the early worker's does at start-up)."""

    def __init__(self, lines: list[bytes]) -> None:
        self.stdout = asyncio.StreamReader()
        for line in lines:
            self.stdout.feed_data(line)
        self.stdout.feed_eof()
        self.returncode = 0

    async def wait(self) -> int:
        return 0


async def test_the_catalog_is_read_in_one_go_and_a_run_lets_the_loop_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "READ_SLICE", 0.0)  # let in after every line, once it may
    events = [
        p.encode(event(1, "note_finished", "order/load", order_tree(), status="done")) for _ in range(50)
    ]
    lines = [
        p.encode(p.Ready(target="t", module="t", file=None, pid=1)),
        p.encode(p.Catalog(entries=[entry()])),
    ]
    client = WorkerClient("t.py", cwd=tmp_path)
    seen: list[int] = []  # how many messages were queued each time the loop let another task in

    async def probe() -> None:
        while True:
            seen.append(client._queue.qsize())
            await asyncio.sleep(0)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0)  # the probe's first look: nothing queued yet
    await client._read_protocol(Piped(lines + events), client._generation)  # type: ignore[arg-type]
    prober.cancel()
    queued = client.pending()
    assert [type(m).__name__ for m in queued[:2]] == ["Ready", "Catalog"]
    assert len(queued) == 2 + 50 + 1  # and the worker's exit
    looks = [n for n in seen if n > 0]
    assert looks, "the loop was never let in while the lines were read"
    assert looks[0] >= 2, f"the loop was let in before the catalog was queued: {seen[:5]}"
    assert len({n for n in looks if 2 <= n < 52}) >= 40, f"a run's lines let the loop in: {seen}"
