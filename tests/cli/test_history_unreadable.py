"""Damaged rows in a real history file: each is listed as unreadable with why, the others work."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from cadence_studio.store.history import History

MODULE = textwrap.dedent(
    """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class Job(Score):
        n: int = 1

    def double(job: Job) -> None:
        job.n *= 2

    job = Cadence("job", Job()).then("double", double)
    """
)

# Each damage, as the run id it ends up with (runs 1 and 2 are good ones), and what is said of it.
DAMAGE = {
    3: ("UPDATE runs SET args = 'not json {' WHERE id = 3", "args is not JSON"),
    4: ("UPDATE runs SET started = 'yesterday' WHERE id = 4", "started is not a number ('yesterday')"),
    5: ("UPDATE lines SET body = X'6e6f74207a6c6962' WHERE run = 5 AND seq = 1", None),
    6: ("UPDATE lines SET body = ? WHERE run = 6 AND seq = 1", None),
    7: ("UPDATE runs SET score = '[1, 2' , args = '[1]' WHERE id = 7", "score is not JSON"),
}


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def damaged_project(folder: Path) -> Path:
    """Seven runs recorded by the real `cadence-studio run`; runs 3-7 then damaged with sqlite3."""
    (folder / "jobs.py").write_text(MODULE)
    for n in range(1, 8):
        done = studio("run", "jobs.py:job", "--score", json.dumps({"n": n}), cwd=folder)
        assert done.returncode == 0, done.stderr
    with sqlite3.connect(History(folder).path) as db:
        for statement, _ in DAMAGE.values():
            if "?" in statement:  # valid zlib, but not JSON inside
                db.execute(statement, (zlib.compress(b'{"type": "event", "run": 1, "event": '),))
            else:
                db.execute(statement)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return damaged_project(tmp_path_factory.mktemp("damaged"))


def test_the_listing_shows_damaged_runs_as_unreadable(project: Path) -> None:
    listing = studio("history", cwd=project)
    assert listing.returncode == 0, listing.stderr
    assert "Traceback" not in listing.stderr
    lines = {int(line.split()[0][1:]): line for line in listing.stdout.splitlines()}
    assert sorted(lines) == [1, 2, 3, 4, 5, 6, 7]
    for run_id in (1, 2, 5, 6):  # 5 and 6: their row is fine, a message is damaged
        assert "jobs.py:job  done" in lines[run_id]
    assert lines[3].startswith("#3     unreadable: args is not JSON (")
    assert lines[4] == "#4     unreadable: started is not a number ('yesterday')"
    assert lines[7].startswith("#7     unreadable: score is not JSON (")
    assert "args is not a JSON object ('[1]')" in lines[7]


def test_the_json_listing_says_why_a_run_is_unreadable(project: Path) -> None:
    listing = studio("history", "--json", cwd=project)
    assert listing.returncode == 0, listing.stderr
    runs = {run["id"]: run for run in json.loads(listing.stdout)}
    assert runs[1]["status"] == "done"
    assert runs[1]["unreadable"] is None
    assert runs[1]["score"] == {"n": 1}
    for run_id in (3, 4, 7):
        assert runs[run_id]["status"] == "unreadable"
        assert DAMAGE[run_id][1] in runs[run_id]["unreadable"]


@pytest.mark.parametrize(
    ("run_id", "why"),
    [
        (3, "args is not JSON"),
        (4, "started is not a number ('yesterday')"),
        (5, "its message 1 is not zlib-compressed data (Error -3 while decompressing data"),
        (6, "its message 1 is not valid JSON ("),
        (7, "score is not JSON"),
    ],
)
def test_showing_a_damaged_run_says_why_and_fails(project: Path, run_id: int, why: str) -> None:
    for extra in ([], ["--json"]):
        shown = studio("history", "show", str(run_id), *extra, cwd=project)
        assert shown.returncode == 1
        assert "Traceback" not in shown.stderr
        assert shown.stderr.startswith(f"error: run {run_id} in the run history is unreadable: {why}")
        assert "the other runs are fine (`cadence-studio history` lists them)" in shown.stderr
        assert shown.stdout == ""


def test_a_good_run_still_shows(project: Path) -> None:
    shown = studio("history", "show", "2", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert 'input score: {"n": 2}' in shown.stdout
    assert "✓ job/double" in shown.stdout
    assert "run done in" in shown.stdout
    replayed = History(project).replay(2)
    assert {k: c["r"] for k, c in replayed.score["c"]}["n"] == "4"
