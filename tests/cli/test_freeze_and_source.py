"""`cadence-studio freeze RUN NODE_ID` writes a pytest file that runs the note alone on its recorded input
and checks its recorded output: it passes as written, and fails, naming the field, once the note's
behaviour changes; `cadence-studio source TARGET NODE_ID` prints the note's code."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_worker_watches import CART

from .test_studio_cli import studio

SYNCED = """
from dataclasses import dataclass
from cadence import Cadence, Score

@dataclass
class Tally(Score):
    a: int = 0
    b: int = 0

def left(s):
    s.a = 1

def right(s):
    s.b = 2

def boom(s):
    raise ValueError("no")

tally = Cadence("tally", Tally()).sync("both", [left, right]).then("boom", boom)
"""


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A project with cart.py and one recorded run of it (run 1)."""
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    done = studio("run", "cart.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def pytest_on(test: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_frozen_test_passes_as_written_and_fails_when_the_note_changes(recorded: Path) -> None:
    done = studio("freeze", "1", "cart/price", cwd=recorded)
    assert done.returncode == 0, done.stderr
    test = recorded / "tests" / "test_cart_price.py"
    assert done.stdout.strip() == f"wrote {test}"
    text = test.read_text()
    assert '"total": 0' in text  # the recorded input
    assert '"total": 12000' in text  # what the note wrote
    passed = pytest_on(test, recorded)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout
    cart = recorded / "cart.py"
    cart.write_text(cart.read_text().replace("s.total = 12000", "s.total = 11000"))
    failed = pytest_on(test, recorded)
    assert failed.returncode == 1, failed.stdout
    assert "the fields the note writes" in failed.stdout
    assert "{'total': 11000} != {'total': 12000}" in failed.stdout


def test_a_note_that_writes_a_field_it_did_not_is_caught_too(recorded: Path) -> None:
    assert studio("freeze", "1", "cart/label", cwd=recorded).returncode == 0
    cart = recorded / "cart.py"
    cart.write_text(cart.read_text().replace('s.note = "big"', 's.note = "big"\n    s.items = 0'))
    failed = pytest_on(recorded / "tests" / "test_cart_label.py", recorded)
    assert failed.returncode == 1
    assert "the fields the note left alone" in failed.stdout
    assert "'items'" in failed.stdout


def test_freeze_refuses_overwrites_paths_outside_and_unknown_notes(recorded: Path) -> None:
    assert studio("freeze", "1", "cart/price", cwd=recorded).returncode == 0
    again = studio("freeze", "1", "cart/price", cwd=recorded)
    assert again.returncode == 2
    assert "exist already: tests/test_cart_price.py" in again.stderr
    assert studio("freeze", "1", "cart/price", "--force", cwd=recorded).returncode == 0
    outside = studio("freeze", "1", "cart/price", "-o", "../elsewhere", cwd=recorded)
    assert outside.returncode == 2
    assert "is outside" in outside.stderr
    assert not (recorded.parent / "elsewhere").exists()
    unknown = studio("freeze", "1", "cart/pricing", cwd=recorded)
    assert unknown.returncode == 2
    assert "run 1 has no note 'cart/pricing'" in unknown.stderr
    assert "cart/add, cart/price, cart/label, cart/discount" in unknown.stderr
    assert studio("freeze", "7", "cart/price", cwd=recorded).returncode == 2


def test_freeze_refuses_a_note_inside_a_sync_and_one_that_failed(tmp_path: Path) -> None:
    (tmp_path / "tally.py").write_text(textwrap.dedent(SYNCED))
    assert studio("run", "tally.py", cwd=tmp_path).returncode == 1  # boom fails the run
    member = studio("freeze", "1", "tally/both/left", cwd=tmp_path)
    assert member.returncode == 2
    assert "tally/both/left is inside the sync tally/both" in member.stderr
    failed = studio("freeze", "1", "tally/boom", cwd=tmp_path)
    assert failed.returncode == 2
    assert "tally/boom ended failed in run 1: freeze a note that finished (done)" in failed.stderr
    assert not (tmp_path / "tests").exists()


def test_source_prints_the_note_with_its_first_line_marked(tmp_path: Path) -> None:
    (tmp_path / "cart.py").write_text(textwrap.dedent(CART))
    done = studio("source", "cart.py", "cart/price", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{tmp_path / 'cart.py'}:14"
    assert lines[1].startswith("❱ 14 async def price(s: Cart) -> None:")
    assert "s.total = 12000" in lines[2]
    assert len(lines) == 3  # the function only
    missing = studio("source", "cart.py", "cart/prize", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no node 'cart/prize'" in missing.stderr
    assert "cart/add, cart/price, cart/label, cart/discount" in missing.stderr
