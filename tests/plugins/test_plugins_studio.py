"""The studio with no TARGET: the installed plugins' cadences, from a real worker in the plugin venv,
with a notice naming the broken plugins; disabled ones are left out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.client import WorkerClient
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph

from .conftest import PluginEnv

SIZE = (160, 48)


def screen(app: StudioApp) -> StudioScreen:
    assert isinstance(app.screen, StudioScreen)
    return app.screen


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.05)


def studio_on_plugins(plugin_env: PluginEnv, project: Path) -> StudioApp:
    """What `cadence-studio` with no TARGET opens (`open @`), its worker the plugin venv's python."""
    client = WorkerClient("@", cwd=project, python=str(plugin_env.python))
    return make_app("@", cwd=project, client=client, watch=False, history=False)


async def test_no_target_shows_the_plugins_and_a_notice_for_the_broken(
    plugin_env: PluginEnv, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cadence]\ndisabled = ["refunds"]\n')
    app = studio_on_plugins(plugin_env, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        session = screen(app).session
        assert [e.name for e in session.entries] == ["orders", "shop.checkout", "shop.make_refund"]
        assert app.screen.sub_title == "installed plugins"

        def notices() -> list[str]:
            return [n.message for n in app._notifications if "could not be loaded" in (n.title or "")]

        # notify() posts a message: the notice is there a moment after the catalog
        await until(lambda: bool(notices()), "the notice")
        assert len(notices()) == 1
        text = notices()[0]
        for name in ("explodes (cadence-broken-plugin)", "ghost (cadence-broken-plugin)", "number"):
            assert name in text
        assert "payment gateway not configured (bad.py:3)" in text
        await until(lambda: bool(app.screen.query("Toast")), "the notice's toast")
        await pilot.pause(0.3)  # drawn
        shot = app.save_screenshot(filename="plugins-160x48.svg", path=str(tmp_path))
        svg = (await asyncio.to_thread(Path(shot).read_text)).replace("&#160;", " ")
        assert "installed plugins" in svg
        assert "could not be loaded" in svg
        print(f"screenshot: {shot}")
        await pilot.press("r")
        await until(lambda: "done in" in str(screen(app).query_one("#status").render()), "the run to end")
        statuses = screen(app).query_one(MeasureGraph).statuses
        assert statuses["checkout/confirm"]["status"] == "done"
