"""Lineage in the run history: each run names the run it was resumed or re-run from, and where.

Runs are written into a real SQLite history through the recorder (the way the studio and
`cadence-studio run` record them: the protocol messages a worker sends) and read back by the real
`cadence-studio history` command.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cadence import Cadence, Score
from cadence_studio import protocol as p
from cadence_studio.store.history import History
from cadence_studio.store.recorder import Recorder
from cadence_studio.ui.client import WorkerClient


@dataclass
class Job(Score):
    n: int = 1


def _first(job: Job) -> None:
    return None


def _second(job: Job) -> None:
    return None


GRAPH: dict[str, Any] = Cadence("job", Job()).then("first", _first).then("second", _second).describe()


def record(recorder: Recorder, worker_run: int, status: str = "done") -> None:
    """One run as a worker reports it: began, then ended."""
    recorder.observe(p.RunBegan(run=worker_run, target="job", graph=GRAPH, score={"n": worker_run}))
    recorder.observe(p.RunEnded(run=worker_run, status=status, duration=0.25))


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def family(project: Path, *, keep: int = 200) -> History:
    """Runs 1-6: #2 re-run from #1's second note, #3 resumed from #2, #4 fresh, #5 re-run of #1 from its
    first note, #6 fresh; a recorder made for one run (as `run --resume` will) and one that records many
    (as the studio does, told before each run)."""
    history = History(project, keep=keep)
    many = history.recorder("jobs.py")
    record(many, 1, "failed")
    many.next_run(parent=1, forked_at="job/second")
    record(many, 2, "failed")
    many.close()
    once = history.recorder("jobs.py", parent=2, relation="resume")
    record(once, 1)
    once.close()
    many = history.recorder("jobs.py")
    record(many, 1)
    many.next_run(parent=1, forked_at="job/first")
    record(many, 2)
    record(many, 3)  # told nothing: a fresh run
    many.close()
    return history


def test_each_run_records_its_parent_and_fork_point(tmp_path: Path) -> None:
    runs = {r.id: r for r in family(tmp_path).runs()}
    lineage = {i: (r.parent, r.forked_at, r.relation, r.parent_kept) for i, r in runs.items()}
    assert lineage == {
        1: (None, None, None, None),
        2: (1, "job/second", "rerun", True),
        3: (2, None, "resume", True),
        4: (None, None, None, None),
        5: (1, "job/first", "rerun", True),
        6: (None, None, None, None),
    }


def test_history_json_carries_parent_and_forked_at(tmp_path: Path) -> None:
    family(tmp_path)
    listing = studio("history", "--json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {r["id"]: r for r in json.loads(listing.stdout)}
    assert [r["id"] for r in json.loads(listing.stdout)] == [6, 5, 4, 3, 2, 1]  # flat, newest first
    assert {k: rows[2][k] for k in ("parent", "forked_at", "relation")} == {
        "parent": 1,
        "forked_at": "job/second",
        "relation": "rerun",
    }
    assert (rows[3]["parent"], rows[3]["forked_at"], rows[3]["relation"]) == (2, None, "resume")
    assert (rows[4]["parent"], rows[4]["forked_at"], rows[4]["relation"]) == (None, None, None)


def test_history_lists_children_under_their_parent(tmp_path: Path) -> None:
    """A tree: each run under the run it came from; trees (and children) newest first by their newest run."""
    family(tmp_path)
    listing = studio("history", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    heads = [line[: line.index("#")] + line[line.index("#") :].split()[0] for line in lines]
    assert heads == [  # the branches of the tree, and each run's number
        "#6",
        "#1",
        "  ├ #5",
        "  └ #2",
        "      └ #3",
        "#4",
    ], listing.stdout
    assert "jobs.py:job  rerun from job/first · done" in lines[2]
    assert "jobs.py:job  rerun from job/second · failed" in lines[3]
    assert "jobs.py:job  resumed · done" in lines[4]
    assert "jobs.py:job  done" in lines[0]


def test_history_show_says_where_a_run_came_from(tmp_path: Path) -> None:
    family(tmp_path)
    forked = studio("history", "show", "2", cwd=tmp_path)
    assert forked.returncode == 0, forked.stderr
    assert forked.stdout.splitlines()[1] == "  forked from run #1 at job/second"
    resumed = studio("history", "show", "3", cwd=tmp_path)
    assert resumed.stdout.splitlines()[1] == "  resumed from run #2"
    fresh = studio("history", "show", "4", cwd=tmp_path)
    assert "from run" not in fresh.stdout


def test_a_parent_no_longer_kept_leaves_a_root_that_says_so(tmp_path: Path) -> None:
    """Only the newest runs are kept: a run whose parent was pruned is listed as a root, and says so."""
    family(tmp_path, keep=4)  # runs 1 and 2 are gone: #3 (resumed from #2) and #5 (from #1) are orphans
    listing = studio("history", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["#6", "#5", "#4", "#3"]
    assert lines[1].endswith("(parent #1 no longer kept)"), lines[1]
    assert "rerun from job/first · done" in lines[1]
    assert lines[3].endswith("(parent #2 no longer kept)"), lines[3]
    as_json = {r["id"]: r for r in json.loads(studio("history", "--json", cwd=tmp_path).stdout)}
    assert (as_json[5]["parent"], as_json[5]["parent_kept"]) == (1, False)
    shown = studio("history", "show", "5", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == "  forked from run #1 at job/first (run #1 is no longer kept)"


def test_a_parent_outside_the_listing_is_not_called_gone(tmp_path: Path) -> None:
    family(tmp_path)
    lines = studio("history", "-n", "3", cwd=tmp_path).stdout.splitlines()
    assert lines[1].split()[0] == "#5"
    assert lines[1].endswith("(parent #1 not listed)"), lines


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("UPDATE runs SET parent = 5 WHERE id = 5", "(parent #5 not listed)"),  # itself: not a cycle
        ("UPDATE runs SET parent = 6 WHERE id = 5", "(parent #6 not listed)"),  # a later run
        ("UPDATE runs SET parent = 99 WHERE id = 5", "(parent #99 no longer kept)"),
        ("UPDATE runs SET parent = 'one' WHERE id = 5", "unreadable: parent is not a run id ('one')"),
        ("UPDATE runs SET relation = 'fork' WHERE id = 5", "unreadable: relation is not one of"),
    ],
)
def test_a_damaged_lineage_is_shown_not_a_crash(tmp_path: Path, damage: str, expected: str) -> None:
    history = family(tmp_path)
    with sqlite3.connect(history.path) as db:
        db.execute(damage)
    listing = studio("history", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    (line,) = [line for line in listing.stdout.splitlines() if line.startswith("#5 ")]
    assert expected in line, listing.stdout
    assert len(listing.stdout.splitlines()) == 6
    assert studio("history", "--json", cwd=tmp_path).returncode == 0


# A history file as format 2 wrote it (runs named their process, not their parent), with one run.
FORMAT_2 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,
    entry TEXT NOT NULL, started REAL NOT NULL, ended REAL,
    status TEXT NOT NULL DEFAULT 'running', duration REAL,
    error TEXT, graph TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}', score TEXT,
    messages INTEGER NOT NULL DEFAULT 0, pid INTEGER, writer TEXT);
CREATE TABLE lines (run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (run, seq)) WITHOUT ROWID;
INSERT INTO runs (target, entry, started, status, graph) VALUES ('jobs.py', 'job', 1.0, 'done', '{}');
PRAGMA user_version = 2;
"""


def test_a_format_2_history_is_upgraded_and_keeps_its_runs(tmp_path: Path) -> None:
    """A file written before runs had a lineage: its runs stay (with no parent), new runs get one."""
    folder = tmp_path / ".cadence"
    folder.mkdir()
    with sqlite3.connect(folder / "history.sqlite3") as db:
        db.executescript(FORMAT_2)
    history = History(tmp_path)
    recorder = history.recorder("jobs.py", parent=1, forked_at="job/second")
    record(recorder, 1)
    recorder.close()
    assert recorder.error is None
    runs = history.runs()
    assert [(r.id, r.parent, r.forked_at) for r in runs] == [(2, 1, "job/second"), (1, None, None)]
    with sqlite3.connect(history.path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"forked_at": "job/second"}, "pass parent=<its run id>"),
        ({"parent": 0}, "parent must be a run id"),
        ({"parent": 3, "relation": "rerun"}, "pass forked_at=<its node id>"),
        ({"parent": 3, "forked_at": "job/second", "relation": "resume"}, "drop forked_at='job/second'"),
        ({"parent": 3, "relation": "fork"}, "relation must be one of resume, rerun"),
    ],
)
def test_a_lineage_that_does_not_fit_is_refused_with_how(
    tmp_path: Path, kwargs: dict[str, Any], says: str
) -> None:
    from cadence_studio.store.lineage import Lineage

    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        Lineage.of(**kwargs)
    with pytest.raises(ValueError, match="parent"):
        History(tmp_path).recorder("jobs.py", forked_at="x")


MODULE = textwrap.dedent(
    """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class Job(Score):
        n: int = 1

    def first(job: Job) -> None:
        job.n += 1

    def second(job: Job) -> None:
        job.n *= 10

    job = Cadence("job", Job()).then("first", first).then("second", second)
    """
)


async def test_a_real_worker_s_runs_take_the_lineage_they_were_told(tmp_path: Path) -> None:
    """The studio's way: one recorder on a real worker's stream, told before the run it asks for."""
    (tmp_path / "jobs.py").write_text(MODULE)
    history = History(tmp_path)
    client = WorkerClient("jobs.py", cwd=tmp_path)
    recorder = client.recorder = history.recorder("jobs.py")

    async def until(kind: type[p.Message]) -> None:
        async for message in client.messages():
            if isinstance(message, kind):
                return
        raise AssertionError("the worker ended")

    await client.start()
    try:
        await asyncio.wait_for(until(p.Catalog), 30)
        for lineage in ({}, {"parent": 1, "forked_at": "job/second"}, {"parent": 2}):
            recorder.next_run(**lineage)
            await client.send(p.Run(target="job", score={"n": 1}))
            await asyncio.wait_for(until(p.RunEnded), 30)
    finally:
        await client.close(grace=1.0)
        recorder.close()
    assert recorder.error is None
    runs = history.runs()
    assert [(r.id, r.status, r.parent, r.forked_at, r.relation) for r in runs] == [
        (3, "done", 2, None, "resume"),
        (2, "done", 1, "job/second", "rerun"),
        (1, "done", None, None, None),
    ]
