"""Durable runs in the studio, with the real worker: R resumes a run whose process was killed, F re-runs
a finished run from the selected note (its plan first, then an edited score), and the history dialog
shows the lineage tree. Screenshots go to $CADENCE_SHOTS when it names a folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from textual.widgets import Label, OptionList, TextArea

from cadence_studio.store.history import History
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.dialogs import ScoreDialog
from cadence_studio.ui.screens.history_dialog import HistoryDialog
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.e2e.test_durable_runs import APP, kill_during, ran, studio
from tests.e2e.test_studio_app import SIZE, screen, status, until

SHOTS = Path(os.environ.get("CADENCE_SHOTS") or "/nonexistent")  # set it to a folder to keep screenshots


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(APP, tmp_path / "durable_app.py")
    return tmp_path


def shoot(app: StudioApp, name: str) -> None:
    if SHOTS.is_dir():
        app.save_screenshot(filename=f"durable-{name}.svg", path=str(SHOTS))


async def open_past_run(app: StudioApp, pilot: object, number: int) -> None:
    await pilot.press("h")  # type: ignore[attr-defined]
    await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
    options = app.screen.query_one(OptionList)
    index = next(
        i
        for i in range(options.option_count)
        if str(options.get_option_at_index(i).prompt).lstrip(" ├└│").startswith(f"#{number} ")
    )
    options.highlighted = index
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(lambda: f"history #{number}" in status(app), f"run #{number} shown")


def killed_ten(project: Path, monkeypatch: pytest.MonkeyPatch) -> StudioApp:
    """A studio on `ten`, once a headless run of it (history #1) was killed in n5 with n1-n4 checkpointed."""
    module = project / "durable_app.py"
    kill_during(project, f"{module}:ten", "n5", saved={f"ten/n{i}" for i in range(1, 5)})
    monkeypatch.setenv("DURABLE_LOG", str(project / "ran.log"))
    monkeypatch.delenv("DURABLE_HANG", raising=False)
    return make_app(f"{module}:ten", cwd=project, watch=False)


async def resume_past_run(app: StudioApp, pilot: object, number: int) -> None:
    """Open history run ``number`` with h, resume it with R and wait for the resumed run to end."""
    await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
    await open_past_run(app, pilot, number)
    await pilot.press("R")  # type: ignore[attr-defined]
    await until(lambda: "done in" in status(app), "the resumed run to end")


async def test_r_resumes_a_killed_run_in_a_new_worker(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = killed_ten(project, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await resume_past_run(app, pilot, 1)
        assert app.recorder is not None
        app.recorder.flush()
        assert ran(project) == ["n1", "n2", "n3", "n4", "n5", "n5", "n6", "n7", "n8", "n9", "n10"]
        resumed = History(project).get(2)
        assert (resumed.parent, resumed.relation, resumed.status) == (1, "resume", "done")

        told: list[str] = []
        app.notify = lambda message, **kw: told.append(str(message))  # type: ignore[method-assign]
        await pilot.press("R")  # the resumed run is done: refused, nothing runs
        await pilot.pause(0.3)
        assert len(History(project).runs()) == 2
        assert told
        assert told[-1].endswith("select a note of run #2 and press F"), told  # the studio's keys, no flags

        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        prompts = [
            str(app.screen.query_one(OptionList).get_option_at_index(i).prompt)
            for i in range(app.screen.query_one(OptionList).option_count)
        ]
        assert prompts[0].startswith("#1")
        assert "└ #2" in prompts[1]
        assert "resumed" in prompts[1]
        shoot(app, "lineage-after-resume")


async def test_f_reruns_from_a_note_with_its_plan_and_an_edited_score(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = project / "durable_app.py"
    monkeypatch.setenv("DURABLE_LOG", str(project / "ran.log"))
    monkeypatch.delenv("DURABLE_HANG", raising=False)

    app = make_app(f"{module}:group", cwd=project, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        studio_screen = screen(app)
        await until(lambda: studio_screen.query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")
        (project / "ran.log").unlink()

        studio_screen.query_one(MeasureGraph).select("group/trio/b")  # a note inside the .sync group
        await pilot.press("F")
        await until(lambda: isinstance(app.screen, ScoreDialog), "the plan preview")
        title = str(app.screen.query_one(".title", Label).render())
        assert "Re-run from group/trio/b (run #1)" in title
        assert "group/trio/b is inside group/trio: it runs again as a whole" in title
        assert "reused from #1: first" in title
        assert "will run: trio, finish" in title
        editor = app.screen.query_one("#json", TextArea)
        assert json.loads(editor.text) == {"a": 0, "b": 0, "c": 0, "after": False}  # before the group
        shoot(app, "plan-preview")

        editor.text = json.dumps({"a": 10, "b": 0, "c": 0, "after": False})
        await pilot.press("ctrl+s")
        await until(lambda: not isinstance(app.screen, ScoreDialog), "the dialog to close")
        await until(lambda: "done in" in status(app) and app.screen.session.run.number == 2, "the re-run")
        assert app.recorder is not None
        app.recorder.flush()
        assert sorted(ran(project)) == ["a", "b", "c", "finish"]  # first was reused, not run
        rerun = History(project).get(2)
        assert (rerun.parent, rerun.forked_at, rerun.relation, rerun.status) == (
            1,
            "group/trio/b",
            "rerun",
            "done",
        )
        shown = studio(project, "history", "show", "2")
        assert "a = 11" in shown.stdout  # the edited 10, then the group's own +1
        assert "after = True" in shown.stdout

        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        prompt = str(app.screen.query_one(OptionList).get_option_at_index(1).prompt)
        assert "rerun from group/trio/b" in prompt
        shoot(app, "lineage-after-rerun")
