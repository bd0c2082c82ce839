"""The run history dialog at 80×24: its hint is whole, and its columns line up whatever the status."""

from __future__ import annotations

import time

from textual.widgets import OptionList

from cadence.diagram import format_duration
from cadence_studio.store.history import STOPPED_BY_RELOAD, RunSummary
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.history_dialog import Compare, HistoryDialog
from tests.studio.scripted import ScriptedClient
from tests.studio.test_dialogs import cut_off


def run(run_id: int, status: str, duration: float) -> RunSummary:
    started = time.time() - 60
    return RunSummary(
        id=run_id,
        target="shop.py",
        entry="checkout",
        started=started,
        ended=started + duration,
        status=status,
        duration=duration,
        error=None,
        args={},
        score=None,
        messages=3,
    )


RUNS = [run(3, STOPPED_BY_RELOAD, 0.25), run(2, "failed", 0.004), run(1, "done", 1.5)]


async def test_history_dialog_fits_at_80x24() -> None:
    """The hint is whole; with more runs than fit, the list scrolls and Close stays on screen."""
    runs = [*RUNS, *(run(i, "done", 0.1 * i) for i in range(20, 4, -1))]  # more than 24 rows hold
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(HistoryDialog(runs, where=".cadence/history.sqlite3"))
        await pilot.pause()
        assert isinstance(app.screen, HistoryDialog)
        assert cut_off(app.screen) == []


async def test_history_durations_line_up_after_a_long_status() -> None:
    """A "stopped by reload" run does not push its duration right of the others'."""
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(HistoryDialog(RUNS, where=".cadence/history.sqlite3"))
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        took = [format_duration(r.duration or 0) for r in RUNS]
        ends = {p.index(t) + len(t) for p, t in zip(prompts, took, strict=True)}
        assert len(ends) == 1, prompts


async def test_marks_two_runs_at_most_and_compares_older_with_newer() -> None:
    """m marks (space too), a third mark replaces the oldest; = answers the two, older first (A)."""
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    answers: list[object] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(HistoryDialog(RUNS, where=".cadence/history.sqlite3"), answers.append)
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, HistoryDialog)
        await pilot.press("m", "down", "space", "down", "m")  # #3, #2, then #1 replaces #3
        assert dialog.marked == [2, 1]
        options = dialog.query_one(OptionList)
        marks = [str(options.get_option_at_index(i).prompt)[:2] for i in range(options.option_count)]
        assert marks == ["  ", "B ", "A "]
        await pilot.press("m")  # unmark #1: one left, = compares it with the highlighted run
        assert dialog.marked == [2]
        await pilot.press("up", "up", "equals_sign")
        await pilot.pause()
    assert answers == [Compare(2, 3)]


async def test_compare_with_nothing_marked_says_how() -> None:
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(HistoryDialog(RUNS, where=".cadence/history.sqlite3"))
        await pilot.pause()
        await pilot.press("equals_sign")
        await pilot.pause()
        assert isinstance(app.screen, HistoryDialog)
        told = [n.message for n in app._notifications]
        assert told == ["mark two runs with m (or space), then press = to compare them"]
