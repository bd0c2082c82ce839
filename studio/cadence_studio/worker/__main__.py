"""``python -m cadence_studio.worker TARGET [--cwd DIR]``: the process the studio runs user code in."""

from __future__ import annotations

from .runner import main

main()
