"""After a run the studio and its worker give freed memory back to the system (issue 18)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from cadence_studio import protocol as p
from cadence_studio.memory import give_back_memory
from cadence_studio.ui.client import WorkerClient
from cadence_studio.ui.widgets.measure_graph import MeasureGraph


def test_give_back_memory_trims_the_heap_on_linux() -> None:
    """On Linux (glibc) the free heap pages are returned; elsewhere it only collects garbage."""
    assert give_back_memory() is sys.platform.startswith("linux")


def _walked(thing: object) -> bool:
    """Whether the garbage collector's passes walk ``thing`` (frozen objects are left out)."""
    return any(tracked is thing for tracked in gc.get_objects())


async def test_what_the_studio_drew_is_left_out_of_the_collectors_passes(tmp_path: Path) -> None:
    """A full pass of the garbage collector walks every object it tracks: with a big graph drawn and a
    run's states, hundreds of thousands, 0.1-0.4 s during which the screen stood still and a key (x)
    waited, every second or so of a fast run. What the studio drew is frozen; a run's end collects
    (the frozen too) and freezes again; closing the studio hands everything back to the collector."""
    from tests.e2e.test_long_run_live import studio_on
    from tests.e2e.test_studio_app import SIZE, screen, until

    app, _ = studio_on(tmp_path, notes=300)
    async with app.run_test(size=SIZE) as pilot:
        studio = screen(app)
        await until(lambda: studio.query_one(MeasureGraph).drawing is not None, "the graph", 50)
        entry = studio.session.entry
        assert entry is not None
        graph = entry.graph
        # frozen once painted (right after the frame that shows it)
        await until(lambda: not _walked(graph), "the drawn graph left out of full collections", 10)
        await pilot.press("r")
        await until(lambda: studio.session.run is not None and studio.session.run.finished, "the end", 50)
        run = studio.session.run
        assert run is not None
        await until(lambda: not _walked(run.nodes), "the run's states frozen after its end", 10)
        assert run.status == "done"
    assert _walked(graph), "the studio closed and left its graph frozen"


async def test_a_big_catalog_is_decoded_with_no_collection_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real worker's catalog of 2,000 notes (its graph some 30,000 objects): the collector used to
    run many times while the client decoded it, each pass walking what was made so far and more
    (a 10,000-note graph took 50-190 ms to decode instead of 25, and the screen stood still)."""
    from tests.e2e.test_long_run_live import FLAT
    from tests.e2e.test_worker import next_of

    (tmp_path / "flat.py").write_text(FLAT.format(n=2000, busy=0))
    decoding = [False]
    during: list[int] = []
    decode = p.decode_message

    def watched(line: str | bytes) -> p.Message:
        decoding[0] = True
        try:
            return decode(line)
        finally:
            decoding[0] = False

    def collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and decoding[0]:
            during.append(info["generation"])

    monkeypatch.setattr(p, "decode_message", watched)
    gc.callbacks.append(collection)
    client = WorkerClient("flat.py", cwd=tmp_path)
    try:
        await client.start()
        catalog = await next_of(client, p.Catalog, timeout=60)
    finally:
        gc.callbacks.remove(collection)
        await client.close(grace=1.0)
    assert catalog.entries[0].graph is not None
    assert len(catalog.entries[0].graph["children"]) == 2000
    assert during == [], f"{len(during)} collections ran while a message was decoded"
