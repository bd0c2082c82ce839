"""Run history in the studio, with the real worker: runs are recorded, and a past run opens as it was."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import OptionList

from cadence_studio.cli.history_commands import show_history
from cadence_studio.store.history import History
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens import studio_run as studio_module
from cadence_studio.ui.screens.history_dialog import HistoryDialog
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.score_tree import ScoreTree
from tests.cli.test_history_unreadable import damaged_project
from tests.e2e.test_studio_app import SIZE, screen, status, until

MODULE = textwrap.dedent(
    """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class Count(Score):
        n: int = 1
        doubled: int = 0
        label: str = ""

    def double(c: Count) -> None:
        c.doubled = c.n * 2

    def name_it(c: Count) -> None:
        c.label = f"{VERSION}:{c.doubled}"

    VERSION = "first"
    count = Cadence("count", Count()).then("double", double).then("name_it", name_it)
    """
)


async def test_a_studio_run_is_recorded_and_opens_again_after_the_code_changed(tmp_path: Path) -> None:
    (tmp_path / "counting.py").write_text(MODULE)
    app = make_app("counting.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")
        assert app.recorder is not None
        app.recorder.flush()
    (summary,) = History(tmp_path).runs()
    assert (summary.entry, summary.status) == ("count", "done")

    # the code changes: a note is renamed and the module's label changes
    changed = MODULE.replace('VERSION = "first"', 'VERSION = "second"').replace(
        '"name_it", name_it', '"label", name_it'
    )
    (tmp_path / "counting.py").write_text(changed)
    app = make_app("counting.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1
        prompt = str(options.get_option_at_index(0).prompt)
        assert prompt.startswith(f"#{summary.id}")
        assert "count" in prompt
        assert "done" in prompt
        await pilot.press("enter")
        await until(lambda: "history #1" in status(app), "the past run shown")
        studio = screen(app)
        assert "■ count: done in" in status(app)
        graph = studio.query_one(MeasureGraph)
        # drawn on the graph it ran on: the old note name, both notes done
        assert graph.statuses["count/name_it"]["status"] == "done"
        assert "count/name_it" in graph.drawing.boxes  # type: ignore[union-attr]
        assert "count/label" not in graph.drawing.boxes  # type: ignore[union-attr]
        # the score after the first note, as it was then
        graph.post_message(MeasureGraph.NoteSelected("count/double"))
        tree = studio.query_one(ScoreTree)
        await until(lambda: "score after count/double" in str(tree.root.label), "the score after double")
        shown = " ".join(str(node.label) for node in tree.root.children)
        assert "doubled" in shown
        assert "2" in shown
        # r runs today's code again, recorded as the next run
        await pilot.press("r")
        await until(lambda: "done in" in status(app) and "history" not in status(app), "the new run")
        assert app.recorder is not None
        app.recorder.flush()
    runs = History(tmp_path).runs()
    assert [r.id for r in runs] == [2, 1]
    labels = [History(tmp_path).replay(r.id).score for r in runs]
    finals = [{k: c["r"] for k, c in score["c"]}["label"] for score in labels]
    assert finals == ["'second:2'", "'first:2'"]


async def test_history_dialog_without_runs_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "counting.py").write_text(MODULE)
    app = make_app("counting.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        text = " ".join(str(label.render()) for label in app.screen.query("Label"))
        assert "No runs recorded yet: press r to run a cadence." in text
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HistoryDialog), "the dialog closed")


async def test_damaged_runs_are_listed_as_unreadable_and_the_rest_open(tmp_path: Path) -> None:
    """h with damaged rows in the file: they are listed as unreadable; choosing one says why, no crash."""
    project = damaged_project(tmp_path)
    told: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            told.append(message.notification.message)

    app = make_app("jobs.py", cwd=project, watch=False)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [prompt.split()[0] for prompt in prompts] == [f"#{n}" for n in range(7, 0, -1)]
        assert prompts[3] == "#4    unreadable  started is not a number ('yesterday')"  # run 4
        assert prompts[4].startswith("#3    unreadable  args is not JSON")
        assert "job" in prompts[5]
        assert "done" in prompts[5]

        # an unreadable row: the dialog stays and says why
        options.highlighted = 3
        await pilot.press("enter")
        await until(lambda: any("run #4 is unreadable" in text for text in told), "the reason")
        assert isinstance(app.screen, HistoryDialog)

        # a row that reads, with a damaged message: the dialog closes, the studio says why
        options.highlighted = 2  # run 5
        await pilot.press("enter")
        await until(lambda: any("run 5 in the run history is unreadable" in t for t in told), "why not")
        assert "its message 1 is not zlib-compressed data" in told[-1]
        assert not isinstance(app.screen, HistoryDialog)

        # and a good one still opens
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog again")
        app.screen.query_one(OptionList).highlighted = 5  # run 2
        await pilot.press("enter")
        await until(lambda: "history #2" in status(app), "run 2 shown")
        assert screen(app).query_one(MeasureGraph).statuses["job/double"]["status"] == "done"


async def test_saving_the_module_while_a_run_is_paused_says_so_and_keeps_the_run(tmp_path: Path) -> None:
    """A paused run cut by a reload: the studio says so; history keeps it as 'stopped by reload'."""
    (tmp_path / "counting.py").write_text(MODULE)
    told: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            told.append(message.notification.message)

    app = make_app("counting.py", cwd=tmp_path)  # the real watcher on the folder
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        studio = screen(app)
        await until(lambda: studio.query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("n")
        await until(
            lambda: studio.session.run is not None and studio.session.run.status == "paused", "a pause"
        )
        await pilot.press("n")
        await until(
            lambda: "count/double" in (studio.session.run.after if studio.session.run else {}), "a step"
        )
        await until(
            lambda: studio.session.run is not None and studio.session.run.status == "paused", "paused"
        )
        # Saved again if the watcher, started with the app, had not yet taken in the folder (loaded machine).
        for attempt in range(4):
            (tmp_path / "counting.py").write_text(MODULE.replace('"first"', f'"saved {attempt}"'))
            try:
                await until(lambda: any("stopped by the reload" in t for t in told), "the run's fate told", 4)
                break
            except AssertionError:
                if attempt == 3:
                    raise
        assert "the paused run of count was stopped by the reload; open it with h" in told
        assert app.recorder is not None
        app.recorder.flush()
        (run,) = History(tmp_path).runs()
        assert (run.status, run.entry) == ("stopped by reload", "count")
        assert run.error == "the studio reloaded the module (counting.py changed) while it ran"
        # readable in history: the note it ran is there, and the dialog shows how it ended
        record = History(tmp_path).replay(run.id)
        assert record.status == "stopped by reload"
        assert record.nodes["count/double"].status == "done"
        await until(lambda: studio.session.ready is not None, "the new worker")
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        prompt = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert "stopped by reload" in prompt
    out, err = io.StringIO(), io.StringIO()
    assert show_history(History(tmp_path), run.id, as_json=False, out=out, err=err) == 0, err.getvalue()
    shown = out.getvalue()
    assert "counting.py:count  stopped by reload" in shown
    assert "✓ count/double" in shown
    assert "run stopped by reload: the studio reloaded the module (counting.py changed) while it ran" in shown


HANGS = textwrap.dedent(
    """
    import time
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def first(s: S) -> None:
        s.n = 1

    def hang(s: S) -> None:
        time.sleep(600)  # never returns in the test's time

    c = Cadence("c", S()).then("first", first).then("hang", hang)
    """
)


async def test_x_on_a_hung_note_records_the_run_as_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """x while a note never returns: the worker is replaced, and history says the user stopped the run."""
    monkeypatch.setattr(studio_module, "STOP_GRACE", 0.3)  # the hang outlasts any grace: no need to wait 1 s
    (tmp_path / "hangs.py").write_text(HANGS)
    app = make_app("hangs.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        studio = screen(app)
        await until(lambda: studio.query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        await until(
            lambda: "c/first" in (studio.session.run.after if studio.session.run else {}), "first done"
        )
        assert studio.session.ready is not None
        hung = studio.session.ready.pid
        await pilot.press("x")
        await until(lambda: "stopped" in status(app), "the run stopped")
        await until(
            lambda: studio.session.ready is not None and studio.session.ready.pid != hung, "a new worker"
        )
    # the studio has closed: a run it left open would now read "unfinished"
    (run,) = History(tmp_path).runs()
    assert (run.entry, run.status) == ("c", "stopped"), run.error
    assert run.error == "stopped by the user (x); the worker was replaced"
    record = History(tmp_path).replay(run.id)
    assert record.status == "stopped"
    assert record.nodes["c/first"].status == "done"
    out, err = io.StringIO(), io.StringIO()
    assert show_history(History(tmp_path), run.id, as_json=False, out=out, err=err) == 0, err.getvalue()
    assert "run stopped: stopped by the user (x); the worker was replaced" in out.getvalue()
