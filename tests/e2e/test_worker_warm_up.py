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
from tests.e2e.test_step_redraw import FLAT


async def test_an_idle_worker_has_fingerprinted_its_cadences(tmp_path: Path) -> None:
    (tmp_path / "warm_flat.py").write_text(FLAT.format(n=50))
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
