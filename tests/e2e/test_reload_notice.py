"""A save says "reloaded" only once the new worker has loaded the module; a failed load says why instead."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from tests.e2e.test_studio_app import until

SOURCE = textwrap.dedent(
    """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def one(s):
        s.n += 1

    flow = Cadence("flow", S()).then("one", one)
    """
)


async def test_reloaded_only_after_a_successful_load(tmp_path: Path) -> None:
    """A syntax error: the load error is notified and no "reloaded"; the fix: "reloaded" once it loaded."""
    module = tmp_path / "flow.py"
    module.write_text(SOURCE)
    app = make_app("flow.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=(160, 48)):
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        await until(lambda: bool(screen.session.entries), "the catalog")

        def notices() -> list[str]:
            return [f"{n.title}: {n.message}" for n in app._notifications]

        module.write_text(SOURCE + "\nx = (\n")
        await screen.reload("flow.py changed")
        await until(lambda: screen.session.load_error is not None, "the load error")
        assert not any("reloaded" in n for n in notices()), notices()
        await until(lambda: any("never closed" in n for n in notices()), "the load error's notice")
        module.write_text(SOURCE)
        await screen.reload("flow.py changed")
        assert not any("reloaded" in n for n in notices()), "said before the new worker loaded anything"
        await until(lambda: screen.session.ready is not None, "the new worker's ready")
        await until(lambda: any("reloaded: flow.py changed" in n for n in notices()), "the reloaded notice")
