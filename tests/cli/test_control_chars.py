"""Control characters from user code (ESC, OSC, C1) never reach the terminal raw from `run` or `history`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODULE = textwrap.dedent(
    r"""
    import sys
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class Job(Score):
        label: str = "\x1b[5mblink\x9b2J"

    def shout(job: Job) -> None:
        print("\x1b[2Jcleared\x1b]0;log-title\x07", flush=True)
        print("\x1b[41merr-line", file=sys.stderr, flush=True)

    def explode(job: Job) -> None:
        raise RuntimeError("\x1b]0;pwned\x07\x1b[31mred\x9b")

    job = Cadence("job", Job()).then("shout", shout).then("explode", explode)
    """
)
MESSAGE = "\x1b]0;pwned\x07\x1b[31mred\x9b"
RAW = (b"\x1b", b"\x07", "\x9b".encode())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("controls")
    (folder / "jobs.py").write_text(MODULE)
    return folder


def studio(project: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )
    for raw in RAW:
        assert raw not in done.stdout, (args, done.stdout)
        assert raw not in done.stderr, (args, done.stderr)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_run_and_history_escape_control_characters(project: Path) -> None:
    code, out, err = studio(project, "run", "jobs.py:job")
    assert code == 1
    assert "✗ job/explode" in out
    assert r"RuntimeError: \x1b]0;pwned\x07\x1b[31mred\x9b" in out  # the note's line
    assert r"failed: RuntimeError: \x1b]0;pwned\x07\x1b[31mred\x9b (" in err  # the run's end
    assert r"\x1b[2Jcleared\x1b]0;log-title\x07" in out + err  # what the note printed
    assert r"\x1b[41merr-line" in err
    assert "Traceback" not in err

    code, out, err = studio(project, "history")
    assert code == 0, err
    assert r"failed  " in out
    assert r"RuntimeError: \x1b]0;pwned\x07\x1b[31mred\x9b" in out

    code, out, err = studio(project, "history", "show", "1")
    assert code == 0, err
    assert r"RuntimeError: \x1b]0;pwned\x07\x1b[31mred\x9b" in out
    assert r"failed: RuntimeError: \x1b]0;pwned\x07\x1b[31mred\x9b (" in err


def test_json_output_keeps_the_text_exactly(project: Path) -> None:
    """JSON escapes what it carries: parsed back, the message is the exception's own."""
    code, out, _ = studio(project, "run", "jobs.py:job", "--json")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["error"]["message"].endswith(f"failed: RuntimeError: {MESSAGE}")
    finished = [e for e in lines if e.get("kind") == "note_finished" and e["node_id"] == "job/explode"]
    assert finished[0]["error"]["message"] == MESSAGE

    code, out, _ = studio(project, "history", "--json")
    assert code == 0
    assert json.loads(out)[0]["error"].endswith(f"failed: RuntimeError: {MESSAGE}")
    code, out, _ = studio(project, "history", "show", "1", "--json")
    assert code == 0
    assert json.loads(out.splitlines()[-1])["error"]["message"].endswith(f"RuntimeError: {MESSAGE}")


def test_escape_controls_keeps_newlines_and_tabs() -> None:
    from cadence_studio.cli.terminal_text import escape_controls

    assert escape_controls("a\tb\nc\x1b[0m\x7f\x85\r") == "a\tb\nc\\x1b[0m\\x7f\\x85\\x0d"
    assert json.loads('"' + escape_controls("\x9b", json=True) + '"') == "\x9b"
