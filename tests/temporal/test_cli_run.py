"""`cadence-studio run --backend temporal` against a real dev server and a real `cadence-studio worker`:
the same lines and final score as a local run, the backend chosen by flag, environment or pyproject.toml,
a clear word when no worker listens."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from tests.temporal.cli_tools import BIN, SHOP, ending, note_lines, studio, worker
from tests.temporal.conftest import TemporalServer

FAILING = """
from dataclasses import dataclass
from cadence import Cadence, Score


@dataclass
class Order(Score):
    total: int = 0


async def price(score: Order) -> None:
    score.total = 10


async def charge(score: Order) -> None:
    raise ValueError(f"card declined for {score.total}")


checkout = Cadence("checkout", Order()).then("price", price).then("charge", charge)
"""


def test_shop_on_temporal_prints_what_a_local_run_prints(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    """Every note line (done, retried, timed out then fallen back, the branch, the .sync's merge, the
    child's indented notes) and the final score are a local run's; only durations differ."""
    local = studio("run", SHOP + ":checkout", "--no-history", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    address = temporal_server.address
    with worker(address, tmp_path) as queue:
        remote = studio(
            "run", SHOP + ":checkout", "--backend", "temporal", "--temporal", address, "--task-queue", queue,
            cwd=tmp_path,
        )  # fmt: skip
    assert remote.returncode == 0, (remote.stdout, remote.stderr)
    assert note_lines(remote.stdout) == note_lines(local.stdout)
    assert ending(remote.stdout) == ending(local.stdout)
    lines = remote.stdout.splitlines()
    members = [i for i, line in enumerate(lines) if line.startswith("✓ checkout/enrich/")]
    merged = lines.index("⇉ checkout/enrich combined log (smart_merge)")
    assert len(members) == 3
    assert max(members) < merged < lines.index("◇ checkout/risk_review → false (condition: False)")
    assert "  ↻ checkout/payment/authorize_payment attempt 1/3 failed: gateway dropped" in remote.stdout
    assert "! fallback used at checkout/pricing/quote_shipping" in remote.stdout
    assert f"started on {address} (namespace default, task queue '{queue}')" in remote.stderr
    assert f"--address {address}" in remote.stderr  # how to open it later
    assert not (tmp_path / ".cadence").exists()  # the run lives on Temporal, not in the local history


def test_a_failing_note_fails_the_run_as_locally(temporal_server: TemporalServer, tmp_path: Path) -> None:
    (tmp_path / "orders.py").write_text(FAILING, encoding="utf-8")
    local = studio("run", "orders.py:checkout", "--no-history", cwd=tmp_path)
    assert local.returncode == 1
    with worker(temporal_server.address, tmp_path, "orders.py") as queue:
        remote = studio(
            "run", "orders.py:checkout", "--backend", "temporal", "--temporal", temporal_server.address,
            "--task-queue", queue, cwd=tmp_path,
        )  # fmt: skip
    assert remote.returncode == 1, (remote.stdout, remote.stderr)
    assert note_lines(remote.stdout) == note_lines(local.stdout)
    assert "✗ checkout/charge  " in remote.stdout
    assert "ValueError: card declined for 10" in remote.stdout
    assert "run failed" in remote.stdout
    assert "error: ValueError: card declined for 10" in remote.stderr


def test_the_backend_comes_from_flag_then_environment_then_pyproject(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    """pyproject.toml says temporal (and where, and the queue): a plain `run` goes there; CADENCE_BACKEND
    =local beats the file; --backend temporal beats the environment."""
    address = temporal_server.address
    with worker(address, tmp_path) as queue:
        (tmp_path / "pyproject.toml").write_text(
            f'[tool.cadence]\nbackend = "temporal"\ntemporal = "{address}"\ntask_queue = "{queue}"\n',
            encoding="utf-8",
        )
        by_file = studio("run", SHOP + ":checkout", cwd=tmp_path)
        by_env = studio(
            "run", SHOP + ":checkout", "--no-history", cwd=tmp_path, env={"CADENCE_BACKEND": "local"}
        )
        by_flag = studio(
            "run", SHOP + ":checkout", "--backend", "temporal", cwd=tmp_path, env={"CADENCE_BACKEND": "local"}
        )
    on_temporal = f"started on {address} (namespace default, task queue '{queue}')"
    assert by_file.returncode == 0, by_file.stderr
    assert on_temporal in by_file.stderr
    assert by_env.returncode == 0, by_env.stderr
    assert "workflow" not in by_env.stderr  # a local run
    assert "run done" in by_env.stdout
    assert by_flag.returncode == 0, by_flag.stderr
    assert on_temporal in by_flag.stderr
    assert ending(by_file.stdout) == ending(by_env.stdout) == ending(by_flag.stdout)


def test_no_worker_is_said_and_wait_gives_up(temporal_server: TemporalServer, tmp_path: Path) -> None:
    """Nobody serves the task queue: the command says so and how to start one; --wait 4 then ends it
    (exit 1) leaving the workflow queued for a worker to come."""
    done = studio(
        "run", SHOP + ":checkout", "--backend", "temporal", "--temporal", temporal_server.address,
        "--task-queue", "nobody-serves-this", "--wait", "4", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert (
        f"no worker is polling task queue 'nobody-serves-this' on {temporal_server.address}; start one: "
        f"cadence-studio worker {SHOP} --temporal {temporal_server.address} --task-queue nobody-serves-this"
    ) in done.stderr
    assert "no worker took the workflow within --wait 4 s; it stays queued" in done.stderr
    assert done.stdout == ""


def test_bad_input_is_refused_before_a_workflow_starts(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    address = temporal_server.address
    not_a_factory = studio(
        "run",
        SHOP + ":checkout",
        "--backend",
        "temporal",
        "--temporal",
        address,
        "--arg",
        "x=1",
        cwd=tmp_path,
    )
    assert not_a_factory.returncode == 2
    assert "'checkout' is a cadence, not a factory, so it takes no --arg" in not_a_factory.stderr
    bad_score = studio(
        "run", SHOP + ":checkout", "--backend", "temporal", "--temporal", address, "--score", '{"nosuch": 1}',
        cwd=tmp_path,
    )  # fmt: skip
    assert bad_score.returncode == 2
    assert "'nosuch': unknown field" in bad_score.stderr
    for done in (not_a_factory, bad_score):
        assert "workflow" not in done.stderr
        assert "Traceback" not in done.stderr


async def _status(address: str, workflow_id: str) -> WorkflowExecutionStatus | None:
    client = await Client.connect(address)
    return (await client.get_workflow_handle(workflow_id).describe()).status


def test_ctrl_c_stops_following_and_the_workflow_goes_on(
    temporal_server: TemporalServer, tmp_path: Path
) -> None:
    """SIGINT (Ctrl-C) while it waits for a worker: the command says the workflow goes on and how to
    follow or cancel it, exits 130, and the workflow is still running on the server."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [str(BIN / "cadence-studio"), "run", SHOP + ":checkout", "--backend", "temporal", "--temporal",
             temporal_server.address, "--task-queue", "nobody-here", "--cwd", str(tmp_path)],
            cwd=tmp_path, stdout=stdout, stderr=stderr, text=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # generous for a loaded machine; not a bound under test
        while "no worker is polling" not in err.read_text():
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = err.read_text()
    workflow_id = text.split("workflow ", 1)[1].split(" ", 1)[0]
    assert f"stopped following (Ctrl-C); the workflow {workflow_id} goes on" in text
    assert f"temporal workflow cancel --workflow-id {workflow_id}" in text
    assert "Traceback" not in text
    status = asyncio.run(_status(temporal_server.address, workflow_id))
    assert status == WorkflowExecutionStatus.RUNNING
