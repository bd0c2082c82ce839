"""Integrations of Cadence with web frameworks.

Each integration imports its framework only when it is itself imported, and names the extra to
install when the framework is missing: ``cadence.integrations.fastapi`` (``CadenceRouter``) needs
``pip install 'cadence-studio[fastapi]'``, ``cadence.integrations.flask`` (``CadenceBlueprint``)
``pip install 'cadence-studio[flask]'``, and their ``metrics_route`` ``pip install
'cadence-studio[prometheus]'``. ``import cadence`` loads none of them.
"""
