"""The history dialog as a tree: a resumed or re-run run is listed under the run it came from.

The runs are in a real SQLite history in tmp_path, written through the recorder (as the studio
records a worker's messages); the dialog is opened with h, as a user does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Label, OptionList

from cadence_studio import protocol as p
from cadence_studio.store.history import History
from cadence_studio.store.recorder import Recorder
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.history_dialog import HistoryDialog
from tests.studio.scripted import ORDER, ScriptedClient
from tests.studio.test_dialogs import cut_off

GRAPH = ORDER.describe()
SHOTS = Path(os.environ.get("CADENCE_SHOTS") or "/nonexistent")  # set it to a folder to keep screenshots


def record(recorder: Recorder, worker_run: int, status: str = "done") -> None:
    recorder.observe(
        p.RunBegan(run=worker_run, target="order", graph=GRAPH, score={"user": f"u-{worker_run}"})
    )
    recorder.observe(p.RunEnded(run=worker_run, status=status, duration=0.25 * worker_run))


def lineage(project: Path, *, keep: int = 200) -> None:
    """#1 failed; #2 re-run of #1 from order/payment/charge; #3 resumed from #2; #4 fresh;
    #5 re-run of #1 from order/enrich (with a new score)."""
    recorder = History(project, keep=keep).recorder("tests")
    record(recorder, 1, "failed")
    recorder.next_run(parent=1, forked_at="order/payment/charge")
    record(recorder, 2, "failed")
    recorder.next_run(parent=2)
    record(recorder, 3)
    record(recorder, 4)
    recorder.next_run(parent=1, forked_at="order/enrich")
    record(recorder, 5)
    recorder.close()
    assert recorder.error is None


async def open_history(app: StudioApp, pilot: Pilot[None]) -> list[str]:
    await pilot.pause()
    await pilot.press("h")
    await pilot.pause()
    assert isinstance(app.screen, HistoryDialog)
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what} never happened")


def opened(app: StudioApp) -> str | None:
    run = getattr(app.screen, "session", None) and app.screen.session.run  # type: ignore[attr-defined]
    return None if run is None else run.recorded


def origin_line(app: StudioApp) -> str:
    return str(app.screen.query_one("#lineage", Label).render())


def shoot(app: StudioApp, name: str) -> None:
    if SHOTS.is_dir():
        app.save_screenshot(filename=f"lineage-{name}.svg", path=str(SHOTS))


async def test_the_history_dialog_shows_runs_as_a_tree(tmp_path: Path) -> None:
    """Children under their parent with how they came from it; Enter on a child opens that child."""
    lineage(tmp_path)
    app = make_app("tests", cwd=tmp_path, client=ScriptedClient(), watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        prompts = await open_history(app, pilot)
        shoot(app, "160x48")
        heads = [prompt.split(":")[0][:-3].rstrip() for prompt in prompts]  # the branch and the number
        assert heads == ["#1", "  ├ #5", "  └ #2", "      └ #3", "#4"], prompts
        assert "rerun from order/enrich" in prompts[1]
        assert "rerun from order/payment/charge" in prompts[2]
        assert "resumed" in prompts[3]
        assert "rerun" not in prompts[0] + prompts[4]
        # the columns line up whatever the depth: every run's time starts in the same column
        assert len({prompt.index(":") for prompt in prompts}) == 1, prompts
        assert origin_line(app) == "#1: a fresh run (not resumed, nor re-run from another run)"
        await pilot.press("down", "down")  # #2, the re-run from the charge
        assert origin_line(app) == "#2: forked from run #1 at order/payment/charge"
        await pilot.press("down")
        assert origin_line(app) == "#3: resumed from run #2"
        await pilot.press("up", "enter")
        await until(pilot, lambda: opened(app) == "from history #2", "opening run #2")


async def test_the_tree_fits_at_80x24(tmp_path: Path) -> None:
    lineage(tmp_path)
    app = make_app("tests", cwd=tmp_path, client=ScriptedClient(), watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        prompts = await open_history(app, pilot)
        shoot(app, "80x24")
        assert cut_off(app.screen) == []
        assert [prompt.split()[0] for prompt in prompts] == ["#1", "├", "└", "└", "#4"]
        await pilot.press("down", "down")
        shoot(app, "80x24-highlighted")
        # the list's line is cut at 80 columns; the line under it says it in full
        assert origin_line(app) == "#2: forked from run #1 at order/payment/charge"
        assert cut_off(app.screen) == []


async def test_a_run_whose_parent_is_gone_is_a_root_that_says_so(tmp_path: Path) -> None:
    """The history keeps the newest runs: #1 and #2 are pruned, so #3 and #5 are roots that say why."""
    lineage(tmp_path, keep=3)
    app = make_app("tests", cwd=tmp_path, client=ScriptedClient(), watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        prompts = await open_history(app, pilot)
        shoot(app, "orphans-160x48")
        assert [prompt.split()[0] for prompt in prompts] == ["#5", "#4", "#3"]
        assert "rerun from order/enrich (parent #1 no longer kept)" in prompts[0]
        assert "resumed (parent #2 no longer kept)" in prompts[2]
        assert origin_line(app) == "#5: forked from run #1 at order/enrich (run #1 is no longer kept)"
        await pilot.press("enter")  # it still opens
        await until(pilot, lambda: opened(app) == "from history #5", "opening run #5")
