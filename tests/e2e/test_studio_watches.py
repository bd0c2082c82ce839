"""Data breakpoints in the studio, with the real worker: w on a score field, W for an expression; the
run pauses right after the note that wrote, naming it, old → new; a broken expression is refused in
the dialog; one that raises is a notice, not a stop."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.watch_dialog import WatchDialog
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.score_tree import ScoreTree

from .test_studio_app import SIZE, screen, status, until
from .test_worker_watches import CART


def project(tmp_path: Path) -> Path:
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    return tmp_path


async def test_w_on_a_score_field_pauses_after_the_note_that_changes_it(tmp_path: Path) -> None:
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        tree = screen(app).query_one("#score-tree", ScoreTree)
        tree.focus()
        await pilot.pause()
        total = next(n for n in tree.root.children if n.data is not None and n.data.path == ("total",))
        tree.move_cursor(total)
        await pilot.press("w")
        await until(lambda: screen(app).session.watches == [p.Watch(kind="field", text="total")], "the watch")
        await pilot.press("r")
        await until(lambda: "◈" in status(app), "the data breakpoint")
        assert status(app).startswith("◈ score.total: 0 → 12000 (written by cart/price)")
        run = screen(app).session.run
        assert run is not None
        assert run.paused_at == "cart/price"
        assert "cart/label" not in run.nodes  # held right after price: label has not started
        assert (
            screen(app).query_one(MeasureGraph).statuses["cart/price"]["status"] == "done"
        )  # not ⏸ before it
        assert "score after cart/price ◈ score.total" in str(tree.root.label)
        row = next(n for n in tree.root.children if n.data is not None and n.data.path == ("total",))
        assert str(row.label).startswith("~ total"), row.label  # marked changed by the note
        tree.move_cursor(tree.root)  # elsewhere: the next hit brings the written field into view
        await pilot.press("c")
        await until(lambda: "cart/discount" in status(app), "the second write")
        assert "12000 → 11500" in status(app)
        await until(lambda: tree.cursor_node is not None and tree.cursor_node.data == row.data, "the field")
        await pilot.press("c")
        await until(lambda: "done in" in status(app), "the end")


async def test_W_refuses_an_expression_that_does_not_compile_and_runs_a_good_one(tmp_path: Path) -> None:
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("W")
        await until(lambda: isinstance(app.screen, WatchDialog), "the dialog")
        await pilot.press(*"score.total >", "enter")
        error = str(app.screen.query_one("#error").render())
        assert "refused: 'score.total >' is not a Python expression" in error
        app.screen.query_one("#watch-expr").value = "score.total > 10000"  # type: ignore[attr-defined]
        await pilot.press("enter")  # adds it
        await pilot.press("enter")  # an empty input: done
        await until(lambda: not isinstance(app.screen, WatchDialog), "the dialog to close")
        assert screen(app).session.watches == [p.Watch(kind="expr", text="score.total > 10000")]
        await pilot.press("r")
        await until(lambda: "◈" in status(app), "the data breakpoint")
        assert status(app).startswith("◈ score.total > 10000 became true after cart/price")
        await pilot.press("c")
        await until(lambda: "done in" in status(app), "the end (it stays true: no second pause)")


async def test_an_expression_that_raises_is_one_notice_and_the_run_ends(tmp_path: Path) -> None:
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).session.watches = [p.Watch(kind="expr", text="score.nope > 1")]
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")
        notes = [n.message for n in app._notifications if "raised" in n.message]
        assert len(notes) == 1, notes
        assert "AttributeError" in notes[0]
