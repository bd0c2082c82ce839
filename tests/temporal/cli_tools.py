"""Helpers of the command-line tests on Temporal: real `cadence-studio` subprocesses, as a user runs them."""

from __future__ import annotations

import re
import signal
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
        wait_until_serving(process, log)
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(process: subprocess.Popen[str], out: Path, err: Path | None = None) -> None:
    """Wait until a worker's start line ("serving ...") is in ``out`` (it must not exit before)."""
    deadline = time.monotonic() + 60  # generous for a loaded machine; not a bound under test
    while "serving" not in out.read_text():
        said = out.read_text() + (err.read_text() if err is not None else "")
        assert process.poll() is None, said
        assert time.monotonic() < deadline, said
        time.sleep(0.05)


def serve_until_sigint(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, *, stderr_apart: bool = False
) -> tuple[str, str]:
    """Run a worker command until its start line, then SIGINT it: it must exit 0.

    Returns what it wrote to stdout and (with ``stderr_apart``) to stderr; else both are in stdout.
    """
    out, err = cwd / "worker-out.txt", cwd / "worker-err.txt"
    with out.open("w") as sink, err.open("w") as errors:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=sink,
            stderr=errors if stderr_apart else subprocess.STDOUT,
            text=True,
            env=env,
        )
    try:
        wait_until_serving(process, out, err)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return out.read_text(), err.read_text()


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
