"""Fixtures shared by the test folders."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._tools.renderers import MermaidRenderer

ROOT = Path(__file__).resolve().parents[1]
PROJECT_HISTORY = ROOT / ".cadence" / "history.sqlite3"
PROJECT_CHECKPOINTS = ROOT / ".cadence" / "checkpoints.sqlite3"


@pytest.fixture(autouse=True)
def _heap_unfrozen() -> Iterator[None]:
    """A studio app freezes its heap once its first screen is drawn (``gc.freeze``, issue 18): each test
    unfreezes it after itself, so that what the test made is collected, as in a process of its own."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture(scope="session")
def mermaid() -> Iterator[MermaidRenderer]:
    """One real Mermaid renderer (chromium) for the whole session."""
    renderer = MermaidRenderer()
    yield renderer
    renderer.close()


def _history_state() -> dict[str, tuple[int, int] | None]:
    """Each file of the repository's own run history and checkpoints: (size, mtime), or None when absent."""
    state: dict[str, tuple[int, int] | None] = {}
    for base in (PROJECT_HISTORY, PROJECT_CHECKPOINTS):
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = Path(f"{base}{suffix}")
            try:
                stat = path.stat()
            except FileNotFoundError:
                state[path.name] = None
            else:
                state[path.name] = (stat.st_size, stat.st_mtime_ns)
    return state


@pytest.fixture(scope="session", autouse=True)
def _project_history_untouched() -> Iterator[None]:
    """Tests record runs in temporary folders: the repository's own .cadence/ must not change."""
    before = _history_state()
    yield
    after = _history_state()
    changed = sorted(name for name in after if after[name] != before[name])
    if changed:
        pytest.fail(
            f"the tests wrote into the repository's own run history or checkpoints ({ROOT / '.cadence'}: "
            f"{', '.join(changed)} created or changed); a test that runs a cadence must use tmp_path "
            "(e.g. `cadence-studio run --cwd TMP` or make_app(..., cwd=tmp_path))",
            pytrace=False,
        )
