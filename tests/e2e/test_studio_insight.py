"""Across runs in the studio, with the real worker: compare two recorded runs (h, m, m, =) and a score
field's provenance (p in the score pane), for a paused live run and for a past run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets._footer import FooterKey

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.field_provenance import FieldProvenanceDialog
from cadence_studio.ui.screens.history_dialog import HistoryDialog
from cadence_studio.ui.screens.run_comparison import RunComparisonScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.score_tree import ScoreTree
from tests.cli.test_history_diff import MODULE, studio
from tests.e2e.test_studio_app import SIZE, screen, status, until


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(MODULE)
    return tmp_path


def text_of(widget: Widget) -> str:
    """What ``widget`` shows, as plain lines."""
    size = widget.size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, size.width, size.height)))


async def loaded(app: StudioApp) -> None:
    await until(
        lambda: (
            isinstance(app.screen, HistoryDialog) or screen(app).query_one(MeasureGraph).drawing is not None
        ),
        "the graph",
    )


async def ask_provenance(app: StudioApp, pilot: object, field: str, shown: str = "") -> FieldProvenanceDialog:
    """Once the score pane's title holds ``shown``, put its cursor on ``field`` and press p."""
    tree = screen(app).query_one(ScoreTree)
    await until(lambda: shown in str(tree.root.label), f"the score pane showing {shown!r}")
    await until(lambda: any(n.data and n.data.path == (field,) for n in tree.root.children), f"{field} shown")
    node = next(n for n in tree.root.children if n.data and n.data.path == (field,))
    tree.focus()
    tree.move_cursor(node)
    await pilot.press("p")  # type: ignore[attr-defined]
    await until(lambda: isinstance(app.screen, FieldProvenanceDialog), "the provenance dialog")
    dialog = app.screen
    assert isinstance(dialog, FieldProvenanceDialog)
    await until(lambda: dialog.query_one(".title", Widget).size.width > 0, "the dialog laid out")
    return dialog


async def test_mark_two_runs_in_the_history_and_compare_them(project: Path) -> None:
    for score in ({"n": 1}, {"n": 7, "flaky": 1}):
        assert studio("run", "jobs.py:job", "--score", json.dumps(score), cwd=project).returncode == 0
    app = make_app("jobs.py", cwd=project, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app)
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        await pilot.press("=")  # nothing marked yet: says how, stays
        assert isinstance(app.screen, HistoryDialog)
        await pilot.press("m", "down", "space")
        runs = app.screen.query_one(OptionList)
        prompts = [str(runs.get_option_at_index(i).prompt) for i in range(runs.option_count)]
        assert prompts[0].startswith("B #2")
        assert prompts[1].startswith("A #1")
        footer = {(key.key_display, key.description) for key in app.screen.query(FooterKey)}
        assert {("m", "Mark"), ("=", "Compare")} <= footer
        await pilot.press("=")
        await until(lambda: isinstance(app.screen, RunComparisonScreen), "the comparison")
        shown = app.screen
        assert isinstance(shown, RunComparisonScreen)
        assert (shown.comparison.a.id, shown.comparison.b.id) == (1, 2)
        comparison = shown.query_one("#comparison", Widget)
        await until(lambda: "A  #1 job done" in text_of(comparison), "the comparison drawn")
        table = text_of(comparison)
        assert "B  #2 job done" in table
        shout = next(line for line in table.splitlines() if "shout" in line)
        assert shout.lstrip().startswith("≠")
        assert "· other branch" in shout
        assert any("left: 0 → 2" in line and "left: 0 → 14" in line for line in table.splitlines())
        assert "    right" in table  # listed, whether it differs or not
        rows = shown.comparison.rows
        same = {row.node_id.rsplit("/", 1)[-1] for row in rows if not row.differs}
        differ = {row.node_id.rsplit("/", 1)[-1] for row in rows if row.differs}
        await pilot.press("d")  # only the notes that differ
        await until(lambda: shown.only_differences, "d pressed")
        await pilot.pause()
        table = text_of(comparison)
        marked = [line.strip()[1:] for line in table.splitlines() if line.strip().startswith("≠")]
        assert {line.split()[0] for line in marked} == differ
        shown_names = {line.split()[0] for line in table.splitlines() if line.strip()}
        assert not same & shown_names  # (on a busy machine a note's time may differ: same may be empty)
        if same:
            assert f"{len(same)} note(s) the same in both runs not shown" in table
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, RunComparisonScreen), "back to the studio")
        assert "ready" in status(app)


async def test_provenance_of_a_field_in_a_paused_run_lists_the_writes_so_far(project: Path) -> None:
    app = make_app("jobs.py", cwd=project, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app)
        await pilot.press("n")  # paused before start
        await until(lambda: "paused before job/start" in status(app), "the first pause")
        for _ in range(4):  # start, the group, left, right: paused before the split
            await pilot.press("n")
            await pilot.pause(0.2)
        await until(lambda: "paused before job/size" in status(app), "paused before the split")
        dialog = await ask_provenance(app, pilot, "left", "score before job/size")
        assert "left in this run so far: written 1 time(s)" in text_of(dialog.query_one(".title", Widget))
        assert [(w.node_id, w.old, w.new) for w in dialog.writes] == [("job/both/left", "0", "2")]
        await pilot.press("enter")  # jump to the note
        await until(lambda: not isinstance(app.screen, FieldProvenanceDialog), "the dialog closed")
        assert screen(app).query_one(MeasureGraph).selected == "job/both/left"
        await until(
            lambda: "score after job/both/left" in str(screen(app).query_one(ScoreTree).root.label),
            "its score",
        )
        # a field no note has written yet
        dialog = await ask_provenance(app, pilot, "label")
        assert dialog.writes == []
        assert "it kept ''" in text_of(dialog.query_one("#kept", Widget))
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, FieldProvenanceDialog), "the dialog closed")
        await pilot.press("c")
        await until(lambda: "done in" in status(app), "the run to end")
        screen(app).query_one(MeasureGraph).select("job/finish")
        dialog = await ask_provenance(app, pilot, "label", "score after job/finish")
        assert [(w.node_id, w.new) for w in dialog.writes] == [("job/size/false/whisper", "'small'")]


async def test_provenance_in_a_past_run_and_in_a_child_s_own_score(project: Path) -> None:
    assert studio("run", "jobs.py:job", "--score", '{"flaky": 1}', cwd=project).returncode == 0
    app = make_app("jobs.py", cwd=project, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app)
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HistoryDialog), "the history dialog")
        await pilot.press("enter")
        await until(lambda: "history #1" in status(app), "the past run shown")
        graph = screen(app).query_one(MeasureGraph)
        graph.select("job/pay/charge")  # a note of the child: the inspector shows the child's score
        dialog = await ask_provenance(app, pilot, "ref", "score after job/pay/charge")
        title = text_of(dialog.query_one(".title", Widget))
        assert "ref in run #1, the score of job/pay: written 1 time(s)" in title
        assert [(w.node_id, w.new) for w in dialog.writes] == [("job/pay/charge", "'pay-2'")]
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, FieldProvenanceDialog), "the dialog closed")
        graph.select("job/finish")  # the job's own score: the child's merge wrote its ref
        dialog = await ask_provenance(app, pilot, "ref", "score after job/finish")
        assert [(w.node_id, w.how) for w in dialog.writes] == [("job/pay", "child")]
