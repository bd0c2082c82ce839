"""`cadence-studio history diff A B`: two runs recorded by the real worker, per note side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

MODULE = textwrap.dedent(
    """
    from dataclasses import dataclass, field
    from cadence import Cadence, Score, retry

    @dataclass
    class Pay(Score):
        ref: str = ""

    @dataclass
    class Job(Score):
        n: int = 1
        flaky: int = 0
        fail: bool = False
        steps: list[str] = field(default_factory=list)
        left: int = 0
        right: int = 0
        ref: str = ""
        label: str = ""

    TRIES = [0]

    def start(job: Job) -> None:
        job.steps.append("start")

    async def left(job: Job) -> None:
        job.left = job.n * 2

    def right(job: Job) -> None:
        job.right = 3

    def big(job: Job) -> bool:
        return job.n > 5

    def shout(job: Job) -> None:
        job.label = "big"

    def whisper(job: Job) -> None:
        job.label = "small"

    def check(job: Job) -> None:
        if job.fail:
            raise ValueError(f"job {job.n} refused")

    @retry(3, delay=0)
    def charge(pay: Pay) -> None:
        TRIES[0] += 1
        if TRIES[0] <= FLAKY[0]:
            raise ConnectionError("dropped")
        pay.ref = f"pay-{TRIES[0]}"

    FLAKY = [0]

    def pay_for(job: Job) -> Pay:
        FLAKY[0] = job.flaky
        return Pay()

    def merge_pay(job: Job, pay: Pay) -> None:
        job.ref = pay.ref

    PAY = Cadence("pay", Pay()).then("charge", charge)

    def finish(job: Job) -> None:
        job.steps.append("finish")

    job = (
        Cadence("job", Job())
        .then("start", start)
        .sync("both", [left, right])
        .split("size", big, shout, whisper)
        .then("check", check)
        .child("pay", PAY, merge_pay, score=pay_for)
        .then("finish", finish)
    )
    """
)
ORDER = [
    "job/start",
    "job/both",
    "job/both/left",
    "job/both/right",
    "job/size",
    "job/size/true/shout",
    "job/size/false/whisper",
    "job/check",
    "job/pay",
    "job/pay/charge",
    "job/finish",
]


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three runs of one job: small and at once, big with a dropped payment, and refused half-way."""
    root = tmp_path_factory.mktemp("diff")
    (root / "jobs.py").write_text(MODULE)
    for score, code in (({"n": 1}, 0), ({"n": 7, "flaky": 1}, 0), ({"n": 2, "fail": True}, 1)):
        done = studio("run", "jobs.py:job", "--score", json.dumps(score), cwd=root)
        assert done.returncode == code, done.stderr
    return root


def diff(project: Path, a: str, b: str) -> dict[str, Any]:
    done = studio("history", "diff", a, b, "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_diff_lists_each_note_in_graph_order_with_the_fields_each_run_wrote(project: Path) -> None:
    data = diff(project, "1", "2")
    assert (data["a"]["id"], data["b"]["id"]) == (1, 2)
    notes = {note["node_id"]: note for note in data["notes"]}
    assert [note["node_id"] for note in data["notes"]] == ORDER
    start = notes["job/start"]  # the same in both (its time may differ on a busy machine: not asserted)
    assert not {"status", "writes", "resilience"} & set(start["differs"])
    assert start["a"]["writes"] == {"steps": {"old": "[]", "new": "['start']", "how": "note"}}
    assert start["a"]["writes"] == start["b"]["writes"]
    left = notes["job/both/left"]
    assert "writes" in left["differs"]
    assert (left["a"]["writes"]["left"]["new"], left["b"]["writes"]["left"]["new"]) == ("2", "14")
    assert "writes" not in notes["job/both/right"]["differs"]
    # the other split branch: each run took one
    shout, whisper = notes["job/size/true/shout"], notes["job/size/false/whisper"]
    assert (shout["a"]["status"], shout["a"]["ran"], shout["b"]["status"]) == ("other branch", False, "done")
    assert (whisper["a"]["status"], whisper["b"]["status"]) == ("done", "other branch")
    assert "status" in shout["differs"]
    # a retry: the child's note took 2 attempts in run 2; the child's merge wrote the job's ref
    charge = notes["job/pay/charge"]
    assert (charge["a"]["attempts"], charge["b"]["attempts"]) == (1, 2)
    assert "resilience" in charge["differs"]
    assert notes["job/pay"]["b"]["writes"]["ref"] == {"old": "''", "new": "'pay-2'", "how": "child"}
    assert data["differences"] == sum(1 for note in data["notes"] if not note["same"])


def test_a_run_that_stopped_early_shows_the_notes_it_never_ran(project: Path) -> None:
    notes = {note["node_id"]: note for note in diff(project, "1", "3")["notes"]}
    check = notes["job/check"]
    assert (check["a"]["status"], check["b"]["status"]) == ("done", "failed")
    for node in ("job/pay", "job/pay/charge", "job/finish"):
        assert notes[node]["b"] == {**notes[node]["b"], "status": "not run", "ran": False, "writes": {}}
        assert "status" in notes[node]["differs"]


def test_the_table_shows_both_runs_side_by_side_and_marks_what_differs(project: Path) -> None:
    done = studio("history", "diff", "1", "2", cwd=project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "notes differ" in lines[0]
    header = next(line for line in lines if "A  #1 job done" in line)
    assert "B  #2 job done" in header
    shout = next(line for line in lines if "shout" in line)
    assert shout.lstrip().startswith("≠")
    assert "· other branch" in shout
    assert "done" in shout
    start = next(line for line in lines if line.strip().removeprefix("≠").strip().startswith("start"))
    assert start.count("done") == 2
    steps = next(line for line in lines if "steps: [] → ['start']" in line)  # the same write: both sides
    assert steps.count("steps: [] → ['start']") == 2
    assert any("left: 0 → 2" in line and "left: 0 → 14" in line for line in lines)
    assert any("↻2" in line for line in lines)


def test_bad_run_ids_exit_2_naming_the_runs_there_are(project: Path) -> None:
    done = studio("history", "diff", "1", "42", cwd=project)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "no run 42 in the run history (newest: 3, 2, 1)" in done.stderr
    assert "Traceback" not in done.stderr
    done = studio("history", "diff", "1", "two", cwd=project)
    assert done.returncode == 2
    assert "Invalid value for 'b'" in done.stderr


def test_diff_help_documents_the_json_shape(project: Path) -> None:
    done = studio("history", "diff", "--help", cwd=project)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for part in ('"notes"', '"differs"', '"writes"', '"ran"', "other branch"):
        assert part in text.replace("│", " ").replace("  ", " "), part
