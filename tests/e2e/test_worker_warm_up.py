"""The worker computes each cadence's fingerprint while the user reads the first screen (issue 18: the
first ``n`` of a 1,000-note cadence hashed every note's code before it could pause)."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from pathlib import Path

from cadence import Cadence, _fingerprint
from cadence_studio.worker._io import Channel
from cadence_studio.worker.runner import WARM_UP_AFTER, Worker, serve

MODULE = """
from dataclasses import dataclass
from cadence import Cadence, Score


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


flat = Cadence("flat", Tally())
for _i in range(50):
    flat.then(f"n{_i:05d}", bump)


def made(n: int = 2) -> Cadence:
    return Cadence("made", Tally()).then("bump", bump)
"""


async def test_an_idle_worker_has_fingerprinted_its_cadences(tmp_path: Path) -> None:
    (tmp_path / "warm_flat.py").write_text(MODULE)
    worker = Worker("warm_flat.py", Channel(io.BytesIO()), tmp_path)
    assert worker.load()
    flat = worker.found["flat"].obj
    assert isinstance(flat, Cadence)
    assert flat not in _fingerprint._shapes  # nothing ran yet

    read, write = os.pipe()

    def hang_up() -> None:  # the UI stays idle a while, then closes the pipe (the worker ends)
        threading.Event().wait(WARM_UP_AFTER + 0.5)
        os.close(write)

    threading.Thread(target=hang_up, daemon=True).start()
    await asyncio.wait_for(serve(worker, read, threading.Event()), 10)
    _key, shape = _fingerprint._shapes[flat]
    assert shape == _fingerprint.shape(flat)  # what the first run's checkpoint records, ready
    assert len(shape["code"]) == 50
