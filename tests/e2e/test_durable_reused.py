"""The measures a resume or a re-run takes from its parent run show as reused (``↺ reused``), with
the real worker: in the studio's graph after R and F, and a line each in `cadence-studio run`'s output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.dialogs import ScoreDialog
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.e2e.test_durable_runs import APP, kill_during, ran, studio
from tests.e2e.test_durable_studio import killed_ten, resume_past_run, shoot
from tests.e2e.test_studio_app import SIZE, screen, status, until


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(APP, tmp_path / "durable_app.py")
    return tmp_path


def shown(app: StudioApp) -> dict[str, str]:
    """Each node's status in the run on screen."""
    run = screen(app).session.run
    assert run is not None
    return {node: entry["status"] for node, entry in run.statuses().items()}


def drawn(app: StudioApp) -> str:
    drawing = screen(app).query_one(MeasureGraph).drawing
    assert drawing is not None
    return drawing.plain


async def test_f_shows_the_measures_taken_from_the_parent_run_as_reused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DURABLE_LOG", str(project / "ran.log"))
    monkeypatch.delenv("DURABLE_HANG", raising=False)
    app = make_app(f"{project / 'durable_app.py'}:group", cwd=project, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        graph = screen(app).query_one(MeasureGraph)
        await until(lambda: graph.drawing is not None, "the graph")
        await pilot.press("r")
        await until(lambda: "done in" in status(app), "the run to end")

        graph.select("group/finish")
        await pilot.press("F")
        await until(lambda: isinstance(app.screen, ScoreDialog), "the plan preview")
        await pilot.press("ctrl+s")
        await until(lambda: "done in" in status(app) and screen(app).session.run.number == 2, "the re-run")

        statuses = shown(app)
        reused = {"group/first", "group/trio", "group/trio/a", "group/trio/b", "group/trio/c"}
        assert {node: statuses.get(node) for node in reused} == dict.fromkeys(reused, "reused")
        assert statuses["group/finish"] == "done"
        assert drawn(app).count("↺ reused") == 5
        shoot(app, "reused-after-rerun")


async def test_r_shows_the_measures_completed_before_the_crash_as_reused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = killed_ten(project, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await resume_past_run(app, pilot, 1)

        statuses = shown(app)
        assert [statuses.get(f"ten/n{i}") for i in range(1, 11)] == ["reused"] * 4 + ["done"] * 6
        assert drawn(app).count("↺ reused") == 4


def test_headless_prints_a_line_per_reused_measure(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    kill_during(project, target, "n5", saved={f"ten/n{i}" for i in range(1, 5)})

    resumed = studio(project, "run", "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert [line for line in resumed.stdout.splitlines() if line.startswith("↺")] == [
        f"↺ ten/n{i}  reused" for i in range(1, 5)
    ]

    (project / "ran.log").unlink()
    rerun = studio(project, "run", target, "--from", "2:ten/n8")
    assert rerun.returncode == 0, rerun.stderr
    assert ran(project) == ["n8", "n9", "n10"]
    assert [line for line in rerun.stdout.splitlines() if line.startswith("↺")] == [
        f"↺ ten/n{i}  reused" for i in range(1, 8)
    ]
