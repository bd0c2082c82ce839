"""A process killed with SIGKILL mid-note; a new process resumes the run from its SQLite checkpoints.

Each note appends its name to a log file, so the test counts how often each ran across both processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cadence import SQLiteCheckpointStore, pending

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _app(tmp_path: Path, *args: str, hang: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CADENCE_TEST_HANG", None)
    if hang is not None:
        env["CADENCE_TEST_HANG"] = hang
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.durable_app", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_when_logged(proc: subprocess.Popen[str], log: Path, lines: set[str]) -> None:
    """SIGKILL the process once the log holds all of ``lines`` (the note named last is hanging)."""
    deadline = time.monotonic() + 60  # generous: only a bound on a broken test, never a speed check
    while time.monotonic() < deadline:
        if log.exists() and lines <= set(log.read_text().split()):
            break
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the kill: {proc.communicate()}")
        time.sleep(0.02)
    else:
        pytest.fail("the note to kill in never started")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # waits, and closes the pipes
    assert proc.returncode == -signal.SIGKILL


def _resume(tmp_path: Path, name: str, db: Path, log: Path) -> str:
    proc = _app(tmp_path, name, str(db), "r", str(log), "resume")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def test_killed_during_note_5_resumes_in_a_new_process(tmp_path: Path) -> None:
    """Notes 1-4 ran exactly once, 5 again (it never completed), 6-10 once; the final score is right."""
    db, log = tmp_path / "c.db", tmp_path / "log"
    proc = _app(tmp_path, "ten", str(db), "r", str(log), "run", hang="n5")
    _kill_when_logged(proc, log, {"n5"})
    assert [(i.run_id, i.status) for i in pending(SQLiteCheckpointStore(db))] == [("r", "running")]
    out = _resume(tmp_path, "ten", db, log)
    runs = log.read_text().split()
    assert [runs.count(f"n{i}") for i in range(1, 11)] == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1]
    assert "total=10" in out
    assert "seen=['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'n10']" in out
    assert pending(SQLiteCheckpointStore(db)) == []


def test_killed_inside_a_sync_after_two_of_three_members_finished(tmp_path: Path) -> None:
    """card and stock finished and were saved on their own; mail hangs and is killed: the resume runs
    mail only, then the merge, and `after` sees all three."""
    db, log = tmp_path / "c.db", tmp_path / "log"
    proc = _app(tmp_path, "fan", str(db), "r", str(log), "run", hang="mail")
    _kill_when_logged(proc, log, {"card", "stock", "mail"})
    saved = SQLiteCheckpointStore(db).load("r")
    assert saved is not None
    assert {"fan/pay/card", "fan/pay/stock"} <= saved.done
    out = _resume(tmp_path, "fan", db, log)
    runs = log.read_text().split()
    assert {n: runs.count(n) for n in ("prep", "card", "stock", "mail", "after")} == {
        "prep": 1,
        "card": 1,
        "stock": 1,
        "mail": 2,
        "after": 1,
    }
    assert "after='card-done+stock-done+mail-done'" in out


def test_killed_inside_a_child_resumes_inside_it(tmp_path: Path) -> None:
    """The child's own score was saved after c1 and c2; killed in c3: the resume runs c3, then p2."""
    db, log = tmp_path / "c.db", tmp_path / "log"
    proc = _app(tmp_path, "outer", str(db), "r", str(log), "run", hang="c3")
    _kill_when_logged(proc, log, {"c3"})
    out = _resume(tmp_path, "outer", db, log)
    assert log.read_text().split() == ["p1", "c1", "c2", "c3", "c3", "p2"]
    assert "seen=['p1', 'c1', 'c2', 'c3', 'p2']" in out
