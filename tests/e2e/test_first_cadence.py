"""With several cadences, the studio opens the one no other cadence runs as a child (real worker)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from tests.e2e.test_studio_app import until

# The child first, then its parent, then another top-level cadence: the parent is the first top one.
MODULE = """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def one(s):
        s.n += 1

    def keep(parent, child):
        parent.n = child.n

    payment = Cadence("payment", S()).then("charge", one)
    checkout = Cadence("checkout", S()).then("load", one).child("pay", payment, keep)
    audit = Cadence("audit", S()).then("log", one)
"""


async def test_the_studio_opens_the_parent_not_the_child_defined_before_it(tmp_path: Path) -> None:
    """payment is defined first but runs as checkout's child: the studio opens checkout."""
    (tmp_path / "shop.py").write_text(textwrap.dedent(MODULE))
    app = make_app("shop.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=(160, 48)):
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        await until(lambda: bool(screen.session.entries), "the catalog")
        assert [e.name for e in screen.session.entries] == ["payment", "checkout", "audit"]
        assert screen.session.selected == "checkout"
        await until(lambda: screen.query_one("#cadences").value == "checkout", "the picker")  # type: ignore[attr-defined]


def test_headless_run_of_several_names_the_top_one(tmp_path: Path) -> None:
    """`run FILE` with several cadences asks for a name and suggests the top-level one."""
    (tmp_path / "shop.py").write_text(textwrap.dedent(MODULE))
    done = subprocess.run(
        [sys.executable, "-m", "cadence_studio", "run", "shop.py", "--cwd", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "add ':NAME' to pick one, e.g. 'shop.py:checkout'" in done.stderr
