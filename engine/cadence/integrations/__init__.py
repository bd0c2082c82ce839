"""Integrations of Cadence with web frameworks.

Each integration imports its framework only when it is itself imported, and names the extra to
install when the framework is missing: ``cadence.integrations.fastapi`` (``CadenceRouter``) needs
``pip install 'cadence-studio[fastapi]'``, ``cadence.integrations.flask`` (``CadenceBlueprint``)
``pip install 'cadence-studio[flask]'``, and their ``metrics_route`` ``pip install
'cadence-studio[prometheus]'``. ``import cadence`` loads none of them.
"""

from __future__ import annotations

# The integrations are the sub-modules themselves; the package exports nothing of its own.
__all__: list[str] = []
