"""The first n starts a run paused: the screen shows its first pause, without a frame of "running" in
between unless the worker takes a while (issue 18: that frame delayed the pause's by a frame)."""

from __future__ import annotations

import pytest

from cadence_studio.ui.screens import studio_run
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient
from tests.studio.test_app import SIZE, app_with, paused_at, screen, status_text


async def test_the_first_n_shows_the_first_pause_and_no_running_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a worker slower than a step's hold and than "running" is shown after, faster than a start's hold
    monkeypatch.setattr(studio_run, "STEP_HOLD", 0.02)
    monkeypatch.setattr(studio_run, "RUNNING_SHOWN_AFTER", 0.02)
    monkeypatch.setattr(studio_run, "START_HOLD", 5.0, raising=False)
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown: list[str] = []
        await pilot.press("n")
        for _ in range(10):  # 0.2 s without an answer
            await pilot.pause(0.02)
            shown.append(status_text(app))
        client.push(paused_at(1, "order/load"))
        await pilot.pause()
        await pilot.pause()
        assert not [text for text in shown if "running" in text], shown
        assert "paused before order/load" in status_text(app)
        assert screen(app).query_one(MeasureGraph).statuses["order/load"]["status"] == "paused"
