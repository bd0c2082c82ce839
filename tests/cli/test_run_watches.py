"""`cadence-studio run --watch FIELD --break-when EXPR`: a headless run prints each data breakpoint it
hits (as `--break-at` prints its pauses) and goes on; a broken watch exits 2 before anything runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_worker_watches import CART

from .test_studio_cli import studio


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    return tmp_path


def test_watch_prints_every_write_with_the_note_and_old_new(project: Path) -> None:
    done = studio("run", "cart.py", "--watch", "total", cwd=project)
    assert done.returncode == 0, done.stderr
    hits = [line for line in done.stdout.splitlines() if line.startswith("◈")]
    assert [h.split(";")[0] for h in hits] == [
        "◈ score.total: 0 → 12000 (written by cart/price)",
        "◈ score.total: 12000 → 11500 (written by cart/discount)",
    ]
    assert "note=''" in hits[0]  # paused right after price: label has not run yet


def test_break_when_prints_where_it_turns_true_and_a_raising_one_once(project: Path) -> None:
    done = studio(
        "run",
        "cart.py",
        "--break-when",
        "score.total > 10000",
        "--break-when",
        "score.missing > 1",
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    hits = [line.split(";")[0] for line in done.stdout.splitlines() if line.startswith("◈")]
    assert hits == ["◈ score.total > 10000 became true after cart/price"]
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: watch")]
    assert len(warnings) == 1, done.stderr
    assert "'score.missing > 1' raised" in warnings[0]
    assert "AttributeError" in warnings[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--break-when", "score.total >"],
            "error: --break-when: 'score.total >' is not a Python expression",
        ),
        (["--break-when", "1 + 1"], "never reads `score`"),
        (["--watch", "total-1"], "error: --watch: 'total-1' is not a score field"),
        (["--watch", "totl"], "has no field 'totl' (fields: total, items, note)"),
    ],
)
def test_a_broken_watch_exits_2_naming_it(project: Path, args: list[str], says: str) -> None:
    done = studio("run", "cart.py", *args, cwd=project)
    assert done.returncode == 2, done.stdout
    assert says in done.stderr
    assert "✓" not in done.stdout  # no note ran


def test_two_watches_hit_by_one_note_are_both_printed(project: Path) -> None:
    done = studio("run", "cart.py", "--watch", "total", "--break-when", "score.total > 10000", cwd=project)
    assert done.returncode == 0, done.stderr
    hits = [line.split(";")[0] for line in done.stdout.splitlines() if line.startswith("◈")]
    assert hits == [
        "◈ score.total: 0 → 12000 (written by cart/price)",
        "◈ score.total > 10000 became true after cart/price",
        "◈ score.total: 12000 → 11500 (written by cart/discount)",
    ]
