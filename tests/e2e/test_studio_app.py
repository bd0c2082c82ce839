"""The studio app with the real worker: it survives every way user code can break."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.gantt import Gantt
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]
SIZE = (160, 48)


def screen(app: StudioApp) -> StudioScreen:
    assert isinstance(app.screen, StudioScreen)
    return app.screen


async def until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Wait (in the app's loop) until ``check()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.05)


def status(app: StudioApp) -> str:
    return str(screen(app).query_one("#status").render())


async def test_runs_the_shop_example_to_the_end(tmp_path: Path) -> None:
    """examples/shop.py (a copy: the run is recorded in its .cadence/): every note ends done."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    app = make_app("examples/shop.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")
        statuses = screen(app).query_one(MeasureGraph).statuses
        assert statuses["checkout/complete_order"]["status"] == "done"
        assert statuses["checkout/payment/authorize_payment"]["status"] == "done"


BROKEN = """
    import os, time
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def die(s):
        os._exit(3)

    def hang(s):
        while True:
            time.sleep(0.05)

    def fine(s):
        s.n = 1

    crashes = Cadence("crashes", S()).then("die", die)
    hangs = Cadence("hangs", S()).then("hang", hang)
    works = Cadence("works", S()).then("fine", fine)
"""


async def choose(app: StudioApp, name: str) -> None:
    picker = screen(app).query_one("#cadences")
    picker.value = name  # type: ignore[attr-defined]
    await until(lambda: screen(app).session.selected == name, f"{name} selected")


async def test_survives_a_note_that_exits_and_one_that_hangs(tmp_path: Path) -> None:
    """os._exit costs a worker (a new one starts); x replaces a worker stuck in a note."""
    (tmp_path / "broken.py").write_text(textwrap.dedent(BROKEN))
    app = make_app("broken.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: bool(screen(app).session.entries), "the catalog")
        await choose(app, "crashes")
        await pilot.press("r")
        await until(lambda: "crashed" in status(app), "the crash to show")
        await until(lambda: screen(app).session.ready is not None, "a new worker")
        await choose(app, "hangs")
        await pilot.press("r")
        await asyncio.sleep(0.3)
        await pilot.press("x")
        await until(lambda: "stopped" in status(app), "the hung run to stop", timeout=10)
        studio = screen(app)
        events = studio.query_one("#events", Timeline)
        run = studio.session.run
        assert run is not None
        assert run.timeline[-1][1] == "■ the worker did not stop in time; it was replaced"
        assert events.shown == len(run.timeline), "the Events tab misses how the run ended"
        gantt = studio.query_one("#timeline", Gantt)
        assert gantt.spans is run.spans
        assert [(row.node, row.status) for row in run.spans.rows] == [("hangs/hang", "cancelled")]
        await until(lambda: screen(app).session.ready is not None, "the replacement worker")
        await choose(app, "works")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "a run on the new worker")
        assert app.is_running


async def test_saving_a_file_reloads_keeps_breakpoints_and_shows_syntax_errors(tmp_path: Path) -> None:
    """A save starts a new worker: new notes appear, breakpoints stay, a syntax error shows and clears."""
    module = tmp_path / "flow.py"
    source = textwrap.dedent(
        """
        from dataclasses import dataclass
        from cadence import Cadence, Score

        @dataclass
        class S(Score):
            n: int = 0

        def one(s):
            s.n += 1

        flow = Cadence("flow", S()).then("one", one)
        """
    )
    module.write_text(source)
    app = make_app("flow.py", cwd=tmp_path, watch=True)
    async with app.run_test(size=SIZE):
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).session.breakpoints.add("flow/one")
        await asyncio.sleep(0.3)  # let the watcher start
        module.write_text(source.replace('.then("one", one)', '.then("one", one).then("two", one)'))
        await until(
            lambda: (d := screen(app).query_one(MeasureGraph).drawing) is not None and "flow/two" in d.boxes,
            "the new note after the save",
        )
        assert "flow/one" in screen(app).query_one(MeasureGraph).breakpoints
        module.write_text(source + "\nx = (\n")
        await until(lambda: "could not load" in status(app), "the syntax error")
        assert "never closed" in str(screen(app).query_one("#note").render())
        module.write_text(source)
        await until(lambda: "ready" in status(app), "the error to clear")
        assert app.is_running


async def test_big_values_are_truncated_and_load_on_demand(tmp_path: Path) -> None:
    """A 100,000-item list shows 100 items; asking for more loads the next page from the worker."""
    from cadence_studio.ui.widgets.score_tree import Row, ScoreTree

    (tmp_path / "big.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass, field
            from cadence import Cadence, Score

            @dataclass
            class S(Score):
                rows: list = field(default_factory=list)

            def fill(s):
                s.rows = list(range(100_000))

            big = Cadence("big", S()).then("fill", fill)
            """
        )
    )
    app = make_app("big.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run")
        tree = screen(app).query_one(ScoreTree)
        rows = next(n for n in tree.root.children if n.data == Row(("rows",)))
        assert len(rows.children) == 101  # 100 items and the "… more" row
        more = rows.children[-1]
        assert more.data == Row(("rows",), 100)
        tree.post_message(ScoreTree.MoreRequested(["rows"], 100))
        await until(lambda: len(rows.children) == 201, "the next page")
        assert rows.children[100].data == Row(("rows", "100"))
