"""The footer is composed again only when the keys it shows change: once at start-up (it was five
times: each update of the screen's bindings composed it anew), and again on a resize that changes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import Footer

from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient


def keys(app: Any) -> list[str]:
    return [key.key for key in app.screen.query_one(Footer).query("FooterKey")]


async def test_the_footer_is_composed_once_at_start_and_again_when_its_keys_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed: list[int] = []
    compose = Footer.compose

    def counted(self: Footer) -> Iterable[Widget]:
        if self._bindings_ready:
            composed.append(len(self.screen.active_bindings))
        return compose(self)

    monkeypatch.setattr(Footer, "compose", counted)
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        assert app.screen.query_one(MeasureGraph).drawing is not None
        await pilot.pause(0.2)
        assert len(composed) == 1, f"composed {len(composed)} times at start-up"
        wide = keys(app)
        assert {"r", "n", "i", "E", "h"} <= set(wide)
        await pilot.resize_terminal(100, 40)  # narrow: the footer keeps a debugging session's keys
        await pilot.pause(0.2)
        assert len(composed) == 2
        narrow = keys(app)
        assert "n" in narrow
        assert not {"i", "E", "h"} & set(narrow)
        await pilot.resize_terminal(101, 40)  # the same keys: not composed again
        await pilot.pause(0.2)
        assert len(composed) == 2
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert keys(app) == wide
