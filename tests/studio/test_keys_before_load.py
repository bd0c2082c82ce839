"""r or n pressed while the worker is still loading the module: the run starts once it has loaded."""

from __future__ import annotations

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from tests.studio.scripted import ScriptedClient


class SlowClient(ScriptedClient):
    """A worker that has not answered yet: the test says when the module has loaded."""

    async def start(self) -> None:
        self.starts += 1

    def loaded(self) -> None:
        self.push(p.Ready(target="tests", module="tests", file=None, pid=1), p.Catalog(entries=self.entries))


@pytest.mark.parametrize(("key", "paused"), [("r", False), ("n", True)])
async def test_a_run_key_pressed_while_loading_starts_the_run_once_loaded(key: str, paused: bool) -> None:
    """The key is not lost to "no cadence selected": the studio says it is loading, then runs."""
    client = SlowClient()
    app = make_app("tests", client=client, watch=False)
    notes: list[str] = []
    async with app.run_test(size=(160, 48)) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert client.commands(p.Run) == []
        assert notes == ["loading tests… the run starts once it has loaded"]
        client.loaded()
        for _ in range(20):
            await pilot.pause(0.02)
            if client.commands(p.Run):
                break
        runs = client.commands(p.Run)
        assert [(r.target, r.pause_at_start) for r in runs] == [("order", paused)]


async def test_a_failed_load_drops_the_waiting_run() -> None:
    """The module did not load: nothing is started later, even after a reload that works."""
    client = SlowClient()
    app = make_app("tests", client=client, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        error = p.ErrorInfo(type="SyntaxError", message="invalid syntax", traceback="")
        client.push(p.LoadFailed(target="tests", error=error, hint="fix it and save"))
        await pilot.pause(0.05)
        client.loaded()
        await pilot.pause(0.1)
        assert client.commands(p.Run) == []
