"""Resuming a run that was already resumed: a resume goes on under its parent's checkpoint id, so the
run to go on with is the newest of the chain. `cadence-studio run --resume N` names it by its history
number (never the store's internal id) and says what to do: resume it, or re-run part of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cadence_studio.store.history import History
from tests.e2e.test_durable_runs import APP, kill_during, ran, studio


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(APP, tmp_path / "durable_app.py")
    return tmp_path


def test_resuming_a_run_resumed_to_the_end_names_the_run_it_went_on_as(project: Path) -> None:
    kill_during(project, f"{project / 'durable_app.py'}:ten", "n5", saved={f"ten/n{i}" for i in range(1, 5)})
    assert studio(project, "run", "--resume", "1").returncode == 0
    before = ran(project)

    again = studio(project, "run", "--resume", "1")

    assert again.returncode == 2
    assert again.stderr.strip() == (
        "error: run 1 was already resumed as run 2; it finished; to run part of it again: --from 2:NODE_ID"
    )
    assert "studio-" not in again.stderr  # the checkpoint store's own id means nothing to the user
    assert ran(project) == before
    assert len(History(project).runs()) == 2


def test_resuming_a_run_whose_resume_died_too_points_at_that_resume(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    kill_during(project, target, "n5", saved={f"ten/n{i}" for i in range(1, 5)})
    kill_during(project, "--resume=1", "n7", saved={f"ten/n{i}" for i in range(1, 7)})
    assert History(project).get(2).parent == 1

    again = studio(project, "run", "--resume", "1")

    assert again.returncode == 2
    assert again.stderr.strip() == (
        "error: run 1 was already resumed as run 2; resume 2 instead: cadence-studio run --resume 2"
    )
    kill_during(project, "--resume=2", "n9", saved={f"ten/n{i}" for i in range(1, 9)})
    third = studio(project, "run", "--resume", "1")
    assert "run 1 was already resumed as run 3; resume 3 instead" in third.stderr  # the newest of the chain

    result = studio(project, "run", "--resume", "3")
    assert result.returncode == 0, result.stderr
    assert ran(project) == ["n1", "n2", "n3", "n4", "n5", "n5", "n6", "n7", "n7", "n8", "n9", "n9", "n10"]
