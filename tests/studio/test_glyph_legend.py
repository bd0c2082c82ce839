"""`?` explains every glyph the graph draws: statuses, run marks, badges, measures, breakpoints, collapse."""

from __future__ import annotations

import unicodedata

from textual.widgets import Markdown

from cadence_studio.ui.app import make_app
from cadence_studio.ui.glyphs import LEGEND, STATUS_GLYPHS
from cadence_studio.ui.layout import layout
from tests.studio.scripted import ScriptedClient
from tests.studio.test_layout import every_kind, nodes, order_cadence

#: Box-drawing lines that only join boxes; the two that mean something are in the legend.
PLAIN_LINES = {chr(c) for c in range(0x2500, 0x2580)} - {"┄", "━"}


def glyphs_drawn() -> set[str]:
    """Every symbol in drawings of every measure kind in every status, with run marks, a breakpoint,
    a selection and a collapsed measure."""
    drawn: set[str] = set()
    for cadence in (every_kind(), order_cadence()):
        tree = cadence.describe()
        ids = [node["id"] for node in nodes(tree)]
        containers = {node["id"] for node in nodes(tree) if node["kind"] in ("sequence", "child", "sync")}
        for status in [*STATUS_GLYPHS, "pending"]:
            statuses = {i: {"status": status, "duration": 0.01, "attempts": 2, "fallback": True} for i in ids}
            for selected, collapsed in ((ids[1], set()), (ids[2], containers)):
                drawing = layout(
                    tree, statuses=statuses, breakpoints=set(ids), selected=selected, collapsed=collapsed
                )
                drawn |= set(drawing.plain)
    names = {char for char in drawn if unicodedata.category(char)[0] in "LN"} | set("()_. \n")
    return drawn - names - PLAIN_LINES


def test_the_legend_names_every_glyph_the_graph_draws() -> None:
    """A glyph added to the graph without a line in the legend fails here."""
    legend = "".join(glyph for _, entries in LEGEND for glyph, _ in entries)
    missing = sorted(glyph for glyph in glyphs_drawn() if glyph not in legend)
    assert not missing, f"the graph draws {missing} but `?` does not explain them"


async def test_question_mark_shows_the_legend() -> None:
    """? opens the help panel with the legend above the keys, whatever has the focus."""
    app = make_app("tests", client=ScriptedClient(), watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for focus in ("#graph", "#timeline"):
            app.screen.query_one(focus).focus()
            await pilot.press("question_mark")
            await pilot.pause()
            shown = app.screen.query_one("HelpPanel").query_one(Markdown).source
            for _, entries in LEGEND:
                for glyph, meaning in entries:
                    assert f"`{glyph}` {meaning}" in shown
            await pilot.press("question_mark")
            await pilot.pause()
