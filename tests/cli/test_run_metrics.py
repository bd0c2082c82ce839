"""`cadence-studio run TARGET --metrics-port N`: Prometheus metrics of a headless run, scraped over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

GATED = textwrap.dedent(
    """
    import asyncio, os
    from dataclasses import dataclass, field
    from cadence import Cadence, Score, retry

    @dataclass
    class Job(Score):
        steps: list[str] = field(default_factory=list)
        fail: bool = False
        left: bool = False
        right: bool = False

    def prepare(job: Job) -> None:
        job.steps.append("prepare")

    async def left(job: Job) -> None:
        job.left = True

    async def right(job: Job) -> None:
        job.right = True

    async def gate(job: Job) -> None:
        while not os.path.exists(os.environ["GATE_FILE"]):
            await asyncio.sleep(0.02)

    ATTEMPTS = []

    @retry(max_attempts=3, delay=0.0, jitter=False)
    def flaky(job: Job) -> None:
        ATTEMPTS.append(1)
        if len(ATTEMPTS) == 1:
            raise ConnectionError("first attempt fails")

    def explode(job: Job) -> None:
        if job.fail:
            raise LookupError("no such order")

    job = (
        Cadence("job", Job())
        .then("prepare", prepare)
        .sync("both", [left, right])
        .then("gate", gate)
        .then("flaky", flaky)
        .then("explode", explode)
    )
    """
)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(
    data: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return data.get((name, frozenset(labels.items())))


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "GATE_FILE": str(tmp_path / "open"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cadence_studio", "run", "gated.py:job", "--metrics-port", "0", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first.startswith("metrics: http://127.0.0.1:"), first
    return proc, first.split(" ", 1)[1].strip()


def _scrape_until(
    url: str, predicate: str, deadline: float = 30.0
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    end = time.monotonic() + deadline
    while True:
        text = httpx.get(url, timeout=5).text
        if predicate in text or time.monotonic() > end:
            return _samples(text)
        time.sleep(0.05)


def _wait_for_linger(proc: subprocess.Popen[str]) -> str:
    """The stderr lines up to the one saying the run ended and the metrics are still served."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("serving metrics at"):
            return "".join(seen)
    return "".join(seen)


def test_metrics_are_served_during_the_run_and_while_it_lingers(tmp_path: Path) -> None:
    (tmp_path / "gated.py").write_text(GATED)
    proc, url = _start(tmp_path, "--metrics-linger", "30")
    try:
        during = _scrape_until(url, 'cadence_notes_total{cadence="job",note="right",status="done"}')
        # the run waits at the gate: in flight, the first notes counted, nothing after the gate yet
        assert _value(during, "cadence_in_flight", cadence="job") == 1.0
        for note in ("prepare", "left", "right"):
            assert _value(during, "cadence_notes_total", cadence="job", note=note, status="done") == 1.0
        assert _value(during, "cadence_notes_total", cadence="job", note="flaky", status="done") is None
        assert _value(during, "cadence_cadence_runs_total", cadence="job", status="done") is None

        (tmp_path / "open").write_text("")
        after = _scrape_until(url, 'cadence_cadence_runs_total{cadence="job",status="done"}')
        assert _value(after, "cadence_in_flight", cadence="job") == 0.0
        assert _value(after, "cadence_cadence_runs_total", cadence="job", status="done") == 1.0
        assert _value(after, "cadence_cadence_duration_seconds_count", cadence="job") == 1.0
        assert _value(after, "cadence_retries_total", cadence="job", note="flaky") == 1.0
        for note in ("prepare", "left", "right", "gate", "flaky", "explode"):
            assert _value(after, "cadence_notes_total", cadence="job", note=note, status="done") == 1.0
            assert _value(after, "cadence_note_duration_seconds_count", cadence="job", note=note) == 1.0
        gate_time = _value(after, "cadence_note_duration_seconds_sum", cadence="job", note="gate")
        assert gate_time is not None
        assert gate_time > 0
        lines = _wait_for_linger(proc)
        assert "serving metrics at http://127.0.0.1:" in lines
        assert "for 30 s" in lines
        # still served after the run ended
        assert _value(_scrape_until(url, ""), "cadence_in_flight", cadence="job") == 0.0
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C ends the lingering server
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "run done" in out
    assert "KeyboardInterrupt" not in err


def test_a_failed_run_counts_its_error_by_type_and_exits_one(tmp_path: Path) -> None:
    (tmp_path / "gated.py").write_text(GATED)
    (tmp_path / "open").write_text("")
    proc, url = _start(tmp_path, "--score", '{"fail": true}', "--metrics-linger", "30")
    try:
        data = _scrape_until(url, 'cadence_cadence_runs_total{cadence="job",status="failed"}')
        assert _value(data, "cadence_cadence_runs_total", cadence="job", status="failed") == 1.0
        assert (
            _value(data, "cadence_errors_total", cadence="job", note="explode", error_type="LookupError")
            == 1.0
        )
        assert _value(data, "cadence_notes_total", cadence="job", note="explode", status="failed") == 1.0
        assert _value(data, "cadence_in_flight", cadence="job") == 0.0
        lines = _wait_for_linger(proc)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C ends the lingering server; the run's exit code stays
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "error: NoteError: [NOTE_ERROR] note 'explode' failed: LookupError: no such order" in lines
    assert "KeyboardInterrupt" not in err


def test_without_linger_the_port_is_freed_when_the_run_ends(tmp_path: Path) -> None:
    (tmp_path / "gated.py").write_text(GATED)
    (tmp_path / "open").write_text("")
    proc, url = _start(tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "run done" in out
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # would raise if the server still held it


def test_a_port_in_use_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "gated.py").write_text(GATED)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "cadence_studio", "run", "gated.py:job", "--metrics-port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use: pick another --metrics-port" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
