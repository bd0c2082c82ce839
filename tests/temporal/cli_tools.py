"""Helpers of the command-line tests on Temporal: real `cadence-studio` subprocesses, as a user runs them."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOP = str(ROOT / "examples" / "shop.py")


def studio(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``cadence-studio ARGS --cwd CWD`` in CWD, with a clean environment plus ``env``."""
    return subprocess.run(
        [str(BIN / "cadence-studio"), *args, "--cwd", str(cwd)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"COLUMNS": "200", "PATH": str(BIN), "HOME": str(cwd), **(env or {})},
    )


@contextmanager
def worker(address: str, tmp_path: Path, target: str = SHOP) -> Iterator[str]:
    """A real ``cadence-studio worker TARGET`` serving a new task queue (yielded) until the block ends."""
    queue = f"cli-{uuid.uuid4().hex[:10]}"
    log = tmp_path / f"worker-{queue}.txt"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(BIN / "cadence-studio"), "worker", target, "--temporal", address, "--task-queue", queue],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60  # generous for a loaded machine; not a bound under test
        while "serving" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_DURATION = re.compile(r"  [\d.,]+ (?:ns|µs|ms|s|min|h)\b")


def note_lines(stdout: str) -> list[str]:
    """The run's event lines without their durations (they differ from run to run), sorted: a .sync's
    members end in any order."""
    events = stdout.split("\n\n", 1)[0]
    return sorted(_DURATION.sub("", line) for line in events.splitlines() if line.strip())


def ending(stdout: str) -> list[str]:
    """The lines after the events: the status (without its duration) and the final score."""
    tail = stdout.split("\n\n", 1)[1].splitlines()
    return [re.sub(r" in .*$", "", tail[0]), *tail[1:]]
