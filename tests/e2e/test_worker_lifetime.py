"""The worker dies with its parent, even while a note holds it in a sync hang (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")

HANGS = """
    import time
    from dataclasses import dataclass
    from pathlib import Path
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def hang(s):
        Path("started").write_text("")
        time.sleep(600)

    c = Cadence("c", S()).then("hang", hang)
"""

#: How long a dead parent's worker may take to go. Not a speed target: without the fix it never goes;
#: the watchdog polls every 0.25 s and gives a closed pipe 2 s, and the machine may be loaded.
GONE_WITHIN = 20.0


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that is not ours counts as gone)."""
    state = _status(pid).get("State", "")
    return bool(state) and not state.startswith(("Z", "X"))


def workers_of(parent: int) -> list[int]:
    """Pids of the `python -m cadence_studio.worker` children of ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"cadence_studio.worker" in cmdline and _status(int(entry.name)).get("PPid") == str(parent):
            found.append(int(entry.name))
    return found


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def hanging_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`cadence-studio run hangs.py:c` with its worker inside the hanging note: (run process, worker pid)."""
    (tmp_path / "hangs.py").write_text(textwrap.dedent(HANGS))
    run = subprocess.Popen(
        [sys.executable, "-m", "cadence_studio", "run", "hangs.py:c", "--no-history", "--cwd", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: list[int] = []
    try:
        wait_for(lambda: (tmp_path / "started").exists(), 30, "the note to start")
        workers = workers_of(run.pid)
        assert len(workers) == 1, workers
        yield run, workers[0]
    finally:
        run.kill()
        run.communicate(timeout=30)
        for pid in workers:  # leave nothing behind, whatever the test found
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_of_a_headless_run_takes_its_worker_along(
    hanging_run: tuple[subprocess.Popen[str], int],
) -> None:
    """SIGKILL gives the run no chance to clean up: the worker must notice on its own and exit."""
    run, worker = hanging_run
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    wait_for(lambda: not alive(worker), GONE_WITHIN, f"worker {worker} to exit after its parent was killed")


def test_sigterm_stops_the_run_ends_the_worker_and_exits_non_zero(
    hanging_run: tuple[subprocess.Popen[str], int],
) -> None:
    """SIGTERM: `run` kills its worker, says why and exits 143."""
    run, worker = hanging_run
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 143, err
    assert "terminated (SIGTERM)" in err
    wait_for(lambda: not alive(worker), GONE_WITHIN, f"worker {worker} to exit after SIGTERM")


def test_a_worker_whose_command_pipe_closes_exits_even_in_a_sync_hang(tmp_path: Path) -> None:
    """Started by hand and its stdin closed mid-note: the worker exits instead of hanging forever."""
    (tmp_path / "hangs.py").write_text(textwrap.dedent(HANGS))
    worker = subprocess.Popen(
        [sys.executable, "-m", "cadence_studio.worker", "hangs.py", "--cwd", "."],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert worker.stdin is not None
        worker.stdin.write(b'{"type": "run", "target": "c"}\n')
        worker.stdin.flush()
        wait_for(lambda: (tmp_path / "started").exists(), 30, "the note to start")
        worker.stdin.close()
        worker.wait(timeout=GONE_WITHIN)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        assert worker.stdout is not None
        worker.stdout.close()
