"""Durable runs from the command line: every run is checkpointed into the project's .cadence/, a run
whose `cadence-studio run` process was SIGKILLed goes on with `run --resume N`, and `run --from N:NODE`
re-runs from a note on the score the run had before it.

Real `cadence-studio run` subprocesses (each with its worker) on tests/e2e/durable_app.py, copied into
tmp_path; the notes append their names to a log file, so what ran, and how often, is read from it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cadence_studio.store.history import History

APP = Path(__file__).with_name("durable_app.py")
STUDIO = [sys.executable, "-m", "cadence_studio"]
WAIT = 60.0  # generous: how long a killed run may take to reach its hanging note on a loaded machine


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(APP, tmp_path / "durable_app.py")
    return tmp_path


def env(project: Path, hang: str | None = None) -> dict[str, str]:
    out = {**os.environ, "DURABLE_LOG": str(project / "ran.log")}
    out.pop("DURABLE_HANG", None)
    if hang is not None:
        out["DURABLE_HANG"] = hang
    return out


def studio(project: Path, *args: str, hang: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STUDIO, *args, "--cwd", str(project)],
        capture_output=True,
        text=True,
        env=env(project, hang),
        timeout=120,
        check=False,
    )


def ran(project: Path) -> list[str]:
    log = project / "ran.log"
    return log.read_text().split() if log.exists() else []


def done_ids(project: Path) -> set[str]:
    path = project / ".cadence" / "checkpoints.sqlite3"
    if not path.exists():
        return set()
    with sqlite3.connect(path, timeout=10) as db:
        try:
            return {row[0] for row in db.execute("SELECT node_id FROM cadence_done")}
        except sqlite3.OperationalError:  # the tables are not made yet
            return set()


def recorded(project: Path) -> int:
    """How many runs the project's run history holds."""
    path = History(project).path
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=10) as db:
        try:
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
        except sqlite3.OperationalError:  # the tables are not made yet
            return 0


def kill_during(project: Path, target: str, hang: str, *, saved: set[str]) -> None:
    """Start `cadence-studio run TARGET`, wait until note ``hang`` runs, the ``saved`` node ids are
    checkpointed and the run is in the history, then SIGKILL the run's process and its worker (its
    process group). (On a loaded machine the worker can reach ``hang`` before the run's process has
    recorded the run's start: killed then, the run is not in the history, as it should not be, but
    the tests resume it by its number.)"""
    runs = recorded(project)
    process = subprocess.Popen(
        [*STUDIO, "run", target, "--cwd", str(project)],
        env=env(project, hang),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not (hang in ran(project) and saved <= done_ids(project) and recorded(project) > runs):
            assert process.poll() is None, f"the run ended before {hang} (exit {process.returncode})"
            assert time.monotonic() < deadline, f"{hang} never ran: {ran(project)}, saved {done_ids(project)}"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def final_score(stdout: str) -> str:
    return stdout.split("score (", 1)[1]


def test_a_run_killed_during_note_5_resumes_from_note_5(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    kill_during(project, target, "n5", saved={f"ten/n{i}" for i in range(1, 5)})
    assert ran(project) == ["n1", "n2", "n3", "n4", "n5"]

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 0, result.stderr
    assert ran(project) == ["n1", "n2", "n3", "n4", "n5", "n5", "n6", "n7", "n8", "n9", "n10"]
    assert "↻ resumed: 4 completed measures kept" in result.stdout
    assert "seen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]" in final_score(result.stdout)
    assert "total = 55" in final_score(result.stdout)
    resumed = History(project).get(2)
    lineage = (resumed.parent, resumed.forked_at, resumed.relation, resumed.status)
    assert lineage == (1, None, "resume", "done")


def test_a_run_killed_inside_a_sync_group_keeps_the_two_members_that_finished(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:group"
    kill_during(project, target, "c", saved={"group/first", "group/trio/a", "group/trio/b"})
    assert sorted(ran(project)) == ["a", "b", "c", "first"]

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 0, result.stderr
    assert sorted(ran(project)) == ["a", "b", "c", "c", "finish", "first"]  # a and b not again
    score = final_score(result.stdout)
    assert "a = 1" in score
    assert "b = 1" in score
    assert "c = 1" in score
    assert "after = True" in score


def test_a_run_killed_inside_a_child_goes_on_inside_the_child(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:nested"
    kill_during(project, target, "i2", saved={"nested/first", "nested/sub/i1"})
    assert ran(project) == ["first", "i1", "i2"]

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 0, result.stderr
    assert ran(project) == ["first", "i1", "i2", "i2", "i3", "finish"]
    assert "c = 3" in final_score(result.stdout)  # the child's score kept i1: three steps merged


def test_every_run_is_checkpointed_under_the_id_its_history_row_names(project: Path) -> None:
    result = studio(project, "run", f"{project / 'durable_app.py'}:ten")
    assert result.returncode == 0, result.stderr

    _, messages = History(project).load(1)
    checkpoint = messages[0].checkpoint  # type: ignore[union-attr]
    assert checkpoint
    with sqlite3.connect(project / ".cadence" / "checkpoints.sqlite3") as db:
        rows = db.execute("SELECT run_id, cadence, status FROM cadence_runs").fetchall()
    assert rows == [(checkpoint, "ten", "done")]


def test_no_history_records_no_checkpoints_either(project: Path) -> None:
    result = studio(project, "run", f"{project / 'durable_app.py'}:ten", "--no-history")
    assert result.returncode == 0, result.stderr
    assert not (project / ".cadence").exists()

    refused = studio(project, "run", "--resume", "1", "--no-history")
    assert refused.returncode == 2
    assert "--resume needs the run history: drop --no-history" in refused.stderr


def test_a_finished_run_is_not_resumed(project: Path) -> None:
    assert studio(project, "run", f"{project / 'durable_app.py'}:ten").returncode == 0

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 2
    assert "run 1 cannot be resumed: it finished" in result.stderr
    assert "--from 1:NODE_ID" in result.stderr
    assert len(History(project).runs()) == 1  # nothing recorded


def test_a_changed_structure_is_refused_naming_the_node(project: Path) -> None:
    module = project / "durable_app.py"
    kill_during(project, f"{module}:ten", "n5", saved={"ten/n4"})
    module.write_text(module.read_text().replace('ten.then(f"n{_i}"', 'ten.then(f"step{_i}"'))

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 2, result.stdout
    assert "cadence 'ten' changed since run" in result.stderr
    assert "'ten/n1'" in result.stderr
    assert "'ten/step1'" in result.stderr
    assert ran(project) == ["n1", "n2", "n3", "n4", "n5"]  # nothing ran


def test_a_code_change_is_said_and_the_run_goes_on(project: Path) -> None:
    module = project / "durable_app.py"
    kill_during(project, f"{module}:ten", "n5", saved={"ten/n4"})
    module.write_text(module.read_text().replace("score.total += i", "score.total += 2 * i"))

    result = studio(project, "run", "--resume", "1")

    assert result.returncode == 0, result.stderr
    assert "! notes changed since: ten/n1, ten/n2, ten/n3" in result.stdout  # one closure: all changed
    assert "total = 100" in final_score(result.stdout)  # 1..4 once, 5..10 twice: 10 + 2 * 45


def test_rerun_from_a_note_reuses_what_came_before_on_the_score_it_had(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    assert studio(project, "run", target).returncode == 0
    (project / "ran.log").unlink()

    result = studio(project, "run", target, "--from", "1:ten/n8")

    assert result.returncode == 0, result.stderr
    assert ran(project) == ["n8", "n9", "n10"]
    assert "reused from run 1: ten/n1, ten/n2, ten/n3, ten/n4, ten/n5, ten/n6, ten/n7" in result.stderr
    assert "will run: ten/n8, ten/n9, ten/n10" in result.stderr
    assert "total = 55" in final_score(result.stdout)
    rerun = History(project).get(2)
    assert (rerun.parent, rerun.forked_at, rerun.relation) == (1, "ten/n8", "rerun")


def test_rerun_from_a_note_with_an_edited_score(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    assert studio(project, "run", target).returncode == 0

    edited = json.dumps({"seen": [], "total": 1000})
    result = studio(project, "run", target, "--from", "1:ten/n9", "--score", edited)

    assert result.returncode == 0, result.stderr
    assert "seen = [9, 10]" in final_score(result.stdout)
    assert "total = 1019" in final_score(result.stdout)

    bad = studio(project, "run", target, "--from", "1:ten/n9", "--score", '{"total": "lots"}')
    assert bad.returncode == 2
    assert "total" in bad.stderr


def test_rerun_from_a_note_inside_a_sync_group_starts_at_the_group(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:group"
    assert studio(project, "run", target).returncode == 0
    (project / "ran.log").unlink()

    result = studio(project, "run", target, "--from", "1:group/trio/b")

    assert result.returncode == 0, result.stderr
    assert "group/trio/b is inside group/trio: the re-run starts at group/trio as a whole" in result.stderr
    assert sorted(ran(project)) == ["a", "b", "c", "finish"]


def test_rerun_refusals_name_the_problem(project: Path) -> None:
    target = f"{project / 'durable_app.py'}:ten"
    assert studio(project, "run", target).returncode == 0

    unknown = studio(project, "run", target, "--from", "1:ten/zz")
    assert unknown.returncode == 2
    assert "'ten/zz' is no note of cadence 'ten'" in unknown.stderr
    assert "ten/n1, ten/n2" in unknown.stderr

    shape = studio(project, "run", target, "--from", "ten/n3")
    assert shape.returncode == 2
    assert "give RUN_ID:NODE_ID" in shape.stderr

    missing = studio(project, "run", target, "--from", "7:ten/n3")
    assert missing.returncode == 2
    assert "no run 7 in the run history" in missing.stderr
