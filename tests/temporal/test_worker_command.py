"""`cadence-studio worker TARGET --temporal HOST:PORT`: what it serves, how it stops, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.temporal.cli_tools import serve_until_sigint
from tests.temporal.conftest import TemporalServer, free_port

ROOT = Path(__file__).resolve().parents[2]
BINARY = str(Path(sys.executable).parent / "cadence-studio")


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BINARY, "worker", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_serves_the_module_and_its_children_until_sigint(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    out, _ = serve_until_sigint(
        [BINARY, "worker", str(ROOT / "examples/shop.py"), "--temporal", temporal_server.address,
         "--task-queue", "cmd-test"],
        tmp_path,
    )  # fmt: skip
    first = out.splitlines()[0]
    assert first == (
        f"serving 'checkout', 'payment' on Temporal at {temporal_server.address} "
        "(namespace 'default', task queue 'cmd-test'); Ctrl-C stops"
    )


@pytest.mark.parametrize("address", ["localhost", "localhost:port", ":7233", "host:70000"])
def test_a_bad_address_is_refused(address: str) -> None:
    done = _run("examples/shop.py", "--temporal", address)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert f"{address!r} is not HOST:PORT" in done.stderr
    assert "--temporal" in done.stderr  # where the bad value came from


def test_an_unreachable_server_is_a_clear_error() -> None:
    port = free_port()  # nothing listens there
    done = _run("examples/shop.py", "--temporal", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"error: cannot reach a Temporal server at 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_namespace_is_a_clear_error(temporal_server: TemporalServer) -> None:
    done = _run("examples/shop.py", "--temporal", temporal_server.address, "--namespace", "nosuch")
    assert done.returncode == 2
    assert "error: no namespace 'nosuch' on the Temporal server" in done.stderr


def test_a_target_that_fails_to_import_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("from cadence import Cadence\n\nx = 1\nraise RuntimeError('boom')\n")
    done = _run("broken.py", "--temporal", "127.0.0.1:1", cwd=tmp_path)
    assert done.returncode == 2
    assert "raised RuntimeError: boom" in done.stderr
    assert f"{tmp_path / 'broken.py'}:4" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_server_namespace_and_queue_come_from_the_project_without_flags(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    """No flags: [tool.cadence] gives the address and queue, and CADENCE_TASK_QUEUE wins over the file."""
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.cadence]\ntemporal = "{temporal_server.address}"\ntask_queue = "from-file"\n'
    )
    (tmp_path / "one.py").write_text(
        "from cadence import Cadence, Score\n\n\ndef go(score):\n    pass\n\n\n"
        "one = Cadence('one', Score()).then('go', go)\n"
    )
    env = {**os.environ, "CADENCE_TASK_QUEUE": "from-env"}
    out, _ = serve_until_sigint([BINARY, "worker", "one.py"], tmp_path, env)
    assert out.splitlines()[0] == (
        f"serving 'one' on Temporal at {temporal_server.address} "
        "(namespace 'default', task queue 'from-env'); Ctrl-C stops"
    )
