"""The Source tab follows the selected note (read as text, highlighted, its first line marked); e opens
$EDITOR +LINE FILE with the studio suspended (no $EDITOR: a notice naming the variable); f freezes the
selected note of the run on screen as a test. All with the real worker."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import TabbedContent

from cadence_studio.ui.app import make_app
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.source_view import SourceView

from .test_studio_app import SIZE, screen, status, until
from .test_worker_watches import CART


class SuspendingDriver(HeadlessDriver):
    """A headless driver that can hand the terminal over (as a real one does for $EDITOR)."""

    @property
    def is_headless(self) -> bool:
        return False

    @property
    def can_suspend(self) -> bool:
        return True

    def start_application_mode(self) -> None:
        pass

    def stop_application_mode(self) -> None:
        pass


def project(tmp_path: Path) -> Path:
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    return tmp_path


async def test_the_source_tab_follows_the_selection(tmp_path: Path) -> None:
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE):
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).query_one("#inspector", TabbedContent).active = "tab-source"
        graph = screen(app).query_one(MeasureGraph)
        graph.select("cart/price")
        view = screen(app).query_one("#source", SourceView)
        await until(lambda: view.shown is not None and view.shown.node_id == "cart/price", "price's source")
        assert view.shown is not None
        assert (view.shown.file, view.shown.line, view.shown.end) == (tmp_path / "cart.py", 14, 15)
        graph.select("cart/discount")
        await until(lambda: view.shown is not None and view.shown.node_id == "cart/discount", "it follows")
        graph.select("cart")
        await until(lambda: view.shown is None, "no source for the cadence itself")
        assert "not a note" in str(view.render())


async def test_e_opens_the_editor_at_the_note_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "editor-args.json"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import json, sys\nopen({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    app.driver_class = SuspendingDriver
    async with app.run_test(size=SIZE, headless=False) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).query_one(MeasureGraph).select("cart/discount")
        await pilot.press("e")
        await until(record.exists, "the editor to run")
    assert json.loads(record.read_text()) == ["+20", str(tmp_path / "cart.py")]


async def test_e_without_editor_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).query_one(MeasureGraph).select("cart/price")
        await pilot.press("e")
        await until(lambda: any("EDITOR" in n.message for n in app._notifications), "the notice")
        notice = next(n.message for n in app._notifications if "EDITOR" in n.message)
        assert "$EDITOR is not set: set the EDITOR variable" in notice
        assert f"{tmp_path / 'cart.py'}:14" in notice


async def test_f_freezes_the_selected_note_of_the_run_on_screen(tmp_path: Path) -> None:
    app = make_app("cart.py", cwd=project(tmp_path), watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")
        screen(app).query_one(MeasureGraph).select("cart/price")
        await pilot.press("f")
        test = tmp_path / "tests" / "test_cart_price.py"
        await until(test.exists, "the test file")
        await until(
            lambda: any("wrote tests/test_cart_price.py" in n.message for n in app._notifications), "it"
        )
        assert '"total": 12000' in test.read_text()
        await pilot.press("f")  # again: the file exists, nothing is overwritten
        await until(lambda: any("exist already" in n.message for n in app._notifications), "the refusal")
