"""``python -m cadence_studio``: the same as the ``cadence-studio`` command."""

from __future__ import annotations

from .cli.studio import main

main()
