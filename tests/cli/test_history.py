"""Run history: runs recorded in the project's .cadence/history.sqlite3 by the real worker, read back."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cadence_studio.cli.headless import RunOptions, run_cadence
from cadence_studio.store.history import History, HistoryError

ROOT = Path(__file__).resolve().parents[2]

MODULE = textwrap.dedent(
    """
    import os
    from dataclasses import dataclass, field
    from cadence import Cadence, Score, MergeStrategy

    @dataclass
    class Job(Score):
        n: int = 1
        steps: list[str] = field(default_factory=list)
        left: int = 0
        right: int = 0
        crash: bool = False
        fail: bool = False

    def start(job: Job) -> None:
        job.steps.append("start")

    async def left(job: Job) -> None:
        job.left = job.n * 2

    def right(job: Job) -> None:
        job.right = job.n * 3

    def big(job: Job) -> bool:
        return job.n > 5

    def shout(job: Job) -> None:
        job.steps.append("big")

    def whisper(job: Job) -> None:
        job.steps.append("small")

    def finish(job: Job) -> None:
        if job.crash:
            os._exit(3)
        if job.fail:
            raise ValueError(f"cannot finish {job.n}")
        job.steps.append("finish")

    job = (
        Cadence("job", Job())
        .then("start", start)
        .sync("both", [left, right])
        .split("size", big, shout, whisper)
        .then("finish", finish)
    )
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(MODULE)
    return tmp_path


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _run(project: Path, score: dict[str, object] | None = None, *, keep: int = 200) -> int:
    options = RunOptions({}, score, [], as_json=False)
    return await run_cadence(
        "jobs.py:job",
        options,
        cwd=project,
        out=io.StringIO(),
        err=io.StringIO(),
        history=History(project, keep=keep),
    )


def test_run_is_recorded_and_show_prints_what_run_printed(project: Path) -> None:
    """`run --json` and `history show N --json` print the same lines; `history` lists newest first."""
    live = studio("run", "jobs.py:job", "--score", '{"n": 7}', "--json", cwd=project)
    assert live.returncode == 0, live.stderr
    failed = studio("run", "jobs.py:job", "--score", '{"fail": true}', cwd=project)
    assert failed.returncode == 1

    listing = studio("history", cwd=project)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#2 ")
    assert "jobs.py:job  failed" in lines[0]
    assert "ValueError: cannot finish 1" in lines[0]
    assert lines[1].startswith("#1 ")
    assert "jobs.py:job  done" in lines[1]

    shown = studio("history", "show", "1", "--json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    head, *rest = shown.stdout.splitlines()
    summary = json.loads(head)
    assert summary["type"] == "run"
    assert summary["status"] == "done"
    assert summary["score"] == {"n": 7}
    assert rest == live.stdout.splitlines()

    as_json = json.loads(studio("history", "--json", "-n", "1", cwd=project).stdout)
    assert [r["id"] for r in as_json] == [2]
    text = studio("history", "show", "2", cwd=project).stdout
    assert 'input score: {"fail": true}' in text
    assert "✗ job/finish" in text
    assert (project / ".cadence" / ".gitignore").read_text().strip().endswith("*")


async def test_a_replayed_run_is_the_run_the_studio_saw(project: Path) -> None:
    """Every note's status, the score after each note, the merge and the branch come back."""
    assert await _run(project, {"n": 7}) == 0
    history = History(project)
    (summary,) = history.runs()
    record = history.replay(summary.id)
    assert record.status == "done"
    assert record.entry == "job"
    assert {node: s.status for node, s in record.nodes.items() if "/" in node and s.status != "skipped"} == {
        "job/start": "done",
        "job/both": "done",
        "job/both/left": "done",
        "job/both/right": "done",
        "job/size": "done",
        "job/size/true/shout": "done",
        "job/finish": "done",
    }
    assert record.finished_order[0] == "job/start"
    after_start = {key: child["r"] for key, child in record.after["job/start"]["c"]}
    assert after_start["steps"] == "['start']"
    merged = record.merges["job/both"]
    assert merged.tasks == ["job/both/left", "job/both/right"]
    assert {task: sorted(c) for task, c in merged.changes.items()} == {
        "job/both/left": ["left"],
        "job/both/right": ["right"],
    }
    assert record.branches["job/size"] == (True, "true")
    final = {key: child["r"] for key, child in record.score["c"]}
    assert final["steps"] == "['start', 'big', 'finish']"
    assert (final["left"], final["right"]) == ("14", "21")
    assert history.graph(summary.id)["name"] == "job"


async def test_a_runs_graph_is_kept_once_in_its_first_line(project: Path) -> None:
    """The graph travels in the run's RunBegan line; it is not encoded and stored a second time (for
    10,000 notes that took 70 ms of the studio's interpreter at each r). Files that kept it in the
    graph column still give it from there."""
    assert await _run(project, {"n": 1}) == 0
    history = History(project)
    (summary,) = history.runs()
    with sqlite3.connect(history.path) as db:
        (column,) = db.execute("SELECT graph FROM runs WHERE id = ?", (summary.id,)).fetchone()
    assert column == ""
    graph = history.graph(summary.id)
    assert graph["name"] == "job"
    assert graph["children"][0]["id"] == "job/start"

    with sqlite3.connect(history.path) as db:  # as a file written before kept it
        db.execute("UPDATE runs SET graph = ? WHERE id = ?", (json.dumps({"name": "then"}), summary.id))
    assert history.graph(summary.id) == {"name": "then"}

    with sqlite3.connect(history.path) as db:  # neither: the message names what is missing
        db.execute("UPDATE runs SET graph = '' WHERE id = ?", (summary.id,))
        db.execute("DELETE FROM lines WHERE run = ? AND seq = 0", (summary.id,))
    with pytest.raises(HistoryError, match="its first message is not the run's start"):
        history.graph(summary.id)


async def test_only_the_newest_runs_are_kept(project: Path) -> None:
    for n in range(5):
        assert await _run(project, {"n": n}, keep=3) == 0
    history = History(project, keep=3)
    runs = history.runs()
    assert [r.id for r in runs] == [5, 4, 3]
    assert [r.score for r in runs] == [{"n": 4}, {"n": 3}, {"n": 2}]
    with sqlite3.connect(history.path) as db:
        stored = sorted({row[0] for row in db.execute("SELECT run FROM lines")})
    assert stored == [3, 4, 5]  # the lines of pruned runs went with them


async def test_a_crashed_worker_leaves_a_crashed_run(project: Path) -> None:
    assert await _run(project, {"crash": True}) == 1
    history = History(project)
    (summary,) = history.runs()
    assert summary.status == "crashed"
    assert summary.error == "the worker exited (3)"
    record = history.replay(summary.id)
    assert record.status == "crashed"
    assert record.nodes["job/start"].status == "done"


def test_no_history_records_nothing_and_errors_name_the_fix(project: Path) -> None:
    done = studio("run", "jobs.py:job", "--no-history", cwd=project)
    assert done.returncode == 0, done.stderr
    assert not (project / ".cadence").exists()
    empty = studio("history", cwd=project)
    assert empty.returncode == 2
    assert "no run history in" in empty.stderr
    assert "recorded by the studio and by `cadence-studio run`" in empty.stderr

    assert studio("run", "jobs.py:job", cwd=project).returncode == 0
    missing = studio("history", "show", "9", cwd=project)
    assert missing.returncode == 2
    assert "no run 9 in the run history (newest: 1); `cadence-studio history` lists them" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_broken_history_file_is_reported_and_left_alone(project: Path) -> None:
    """An unreadable file is never overwritten: the run goes on unrecorded, `history` says what to do."""
    folder = project / ".cadence"
    folder.mkdir()
    broken = folder / "history.sqlite3"
    broken.write_bytes(b"this is not a database, but it is somebody's file" * 100)
    before = broken.read_bytes()

    done = studio("run", "jobs.py:job", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "warning: the run history" in done.stderr
    assert "is unreadable" in done.stderr
    assert "the run goes on unrecorded" in done.stderr
    listing = studio("history", cwd=project)
    assert listing.returncode == 2
    assert "move it away or delete it to start a new one" in listing.stderr
    assert "Traceback" not in listing.stderr + done.stderr
    assert broken.read_bytes() == before


def test_a_newer_format_is_refused(project: Path) -> None:
    folder = project / ".cadence"
    folder.mkdir()
    with sqlite3.connect(folder / "history.sqlite3") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(HistoryError, match="written by a newer Cadence Studio"):
        History(project).runs()


def test_the_shop_example_is_recorded_from_the_repository(tmp_path: Path) -> None:
    """The README's example, run from a copy of the project: the child cadence's notes are in its history."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = studio("run", "examples/shop.py:checkout", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = studio("history", "show", "1", cwd=tmp_path)
    assert "  ✓ checkout/payment/capture_payment" in shown.stdout
    assert "run done in" in shown.stdout
