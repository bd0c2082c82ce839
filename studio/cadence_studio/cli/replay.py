"""``cadence-studio replay HISTORY.json TARGET``: open an exported Temporal history offline and check it
against the current code.

The history is printed as ``history show`` prints a run (read here, no user code); the check runs in a
process of its own (:mod:`cadence_studio.worker.replayer`), which imports TARGET's module to build its
cadences' plans and replays the history with temporalio's ``Replayer``: no note runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from cadence.integrations.temporal.history import HistoryFormatError, read_history

from ..store.temporal_runs import run_messages
from .temporal_history import print_run
from .terminal_text import escaped

__all__ = ["replay_history"]

REPLAY_MODULE = "cadence_studio.worker.replayer"


def replay_history(
    path: Path,
    target: str,
    *,
    cwd: Path,
    as_json: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print the run in ``path``, then replay it against ``target``.

    Returns: 0 when it replays cleanly, 1 on non-determinism, 2 for bad input.
    """
    out, err = escaped(out, json=as_json), escaped(err)
    try:
        run = read_history(path.read_bytes())
    except OSError as error:
        print(f"error: cannot read {path}: {error.strerror or error}", file=err)
        return 2
    except HistoryFormatError as error:
        print(f"error: {path}: {error}", file=err)
        return 2
    print_run(run, run_messages(run), as_json=as_json, out=out, err=err)
    command = [sys.executable, "-m", REPLAY_MODULE, str(path.resolve()), target, "--cwd", str(cwd.resolve())]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    try:
        outcome = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        print(f"error: the replay did not finish: {tail}", file=err)
        return 2
    if as_json:
        print(json.dumps({"type": "replay", **outcome}), file=out)
    elif outcome.get("ok"):
        print(f"\nreplay: {outcome['message']}", file=out)
    if outcome.get("ok"):
        return 0
    if outcome.get("load_error"):
        print(f"error: {outcome['message']}", file=err)
        return 2
    if not as_json:
        print(f"\nreplay: non-determinism: {outcome['message']}", file=out)
    return 1
