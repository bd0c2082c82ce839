"""n pressed while a step is still running is queued, not dropped: n n n takes three steps (real worker)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from tests.e2e.test_studio_app import until

# Each note takes 0.3 s, so the second and third n arrive while the first step is still running.
SLOW = """
    import asyncio
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    async def slow(s):
        await asyncio.sleep(0.3)
        s.n += 1

    flow = Cadence("flow", S())
    for i in range(1, 7):
        flow = flow.then(f"n{i}", slow)
"""


async def test_n_n_n_typed_at_once_takes_three_steps(tmp_path: Path) -> None:
    """Paused before n1, n n n at once: the run ends up paused before n4, having run n1..n3."""
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW))
    app = make_app("slow.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        await until(lambda: bool(screen.session.entries), "the catalog")

        def paused_at() -> str | None:
            run = screen.session.run
            return run.paused_at if run is not None and run.status == "paused" else None

        await pilot.press("n")
        await until(lambda: paused_at() == "flow/n1", "the pause before n1")
        await pilot.press("n", "n", "n")
        await until(lambda: paused_at() not in (None, "flow/n1"), "the first step's pause")
        await until(lambda: paused_at() == "flow/n4", "the pause before n4")
        run = screen.session.run
        assert run is not None
        assert [n for n in run.finished_order if n.startswith("flow/n")] == ["flow/n1", "flow/n2", "flow/n3"]
