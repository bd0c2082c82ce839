"""The studio lists a factory whose single parameter is a `Score` (`create_x_cadence(score)`) as runnable
with the score's defaults, and `cadence-studio run FILE:create_x_cadence` runs it without `--arg`
(real `cadence-studio` subprocesses, real worker)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

MODULE = textwrap.dedent(
    '''
    from __future__ import annotations

    from dataclasses import dataclass

    from cadence import Cadence, Score


    @dataclass
    class OrderScore(Score):
        order_id: str = "ORD-1"
        total: int = 0


    @dataclass
    class NeedsId(Score):
        order_id: str


    def price(score: OrderScore) -> None:
        score.total = 42


    def create_order_cadence(score: OrderScore) -> Cadence[OrderScore]:
        """The cadence-orchestration style: the score comes in, the cadence goes out."""
        return Cadence("order", score).then("price", price)


    def create_strict_cadence(score: NeedsId) -> Cadence[NeedsId]:
        return Cadence("strict", score).then("noop", lambda s: None)
    '''
)


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_list_shows_a_score_factory_as_runnable(tmp_path: Path) -> None:
    """`list` draws the graph of `create_order_cadence` (built on `OrderScore()`); a score with a
    required field still needs arguments."""
    (tmp_path / "orders.py").write_text(MODULE)
    done = studio("list", "orders.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    order = done.stdout.split("create_order_cadence(", 1)[1].split("\n\n", 1)[0]
    assert "price" in order
    assert "needs arguments" not in order
    strict = done.stdout.split("create_strict_cadence(", 1)[1].split("\n\n", 1)[0]
    assert "needs arguments" in strict


def test_run_builds_the_factory_on_the_default_score(tmp_path: Path) -> None:
    """`run orders.py:create_order_cadence` (no --arg) runs the note on `OrderScore()`."""
    (tmp_path / "orders.py").write_text(MODULE)
    done = studio("run", "orders.py:create_order_cadence", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    names = [m.get("name") for m in messages if m.get("kind") == "note_finished"]
    assert names == ["price"], done.stdout
    finished = [m for m in messages if m.get("kind") == "run_finished"]
    assert finished
    assert finished[-1].get("status") == "done"


def test_list_shows_the_score_a_score_factory_runs_on(tmp_path: Path) -> None:
    """`list` spells the default of a Score parameter as the call that makes it, never `None`; the
    catalog keeps `default` for JSON data only and says it in `display`."""
    (tmp_path / "orders.py").write_text(MODULE)
    done = studio("list", "orders.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "create_order_cadence(score=OrderScore())  factory" in done.stdout.splitlines()
    assert "score=None" not in done.stdout

    listed = studio("list", "orders.py", "--json", cwd=tmp_path)
    entries = {e["name"]: e for e in json.loads(listed.stdout)["entries"]}
    (param,) = entries["create_order_cadence"]["params"]
    assert (param["default"], param["required"], param["display"]) == (None, False, "OrderScore()")
