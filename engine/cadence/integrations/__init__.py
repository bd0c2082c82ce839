"""Integrations of Cadence with web frameworks.

Each integration imports its framework only when it is itself imported, and names the extra to
install when the framework is missing: ``cadence.integrations.fastapi`` needs
``pip install 'cadence-studio[fastapi]'``. ``import cadence`` loads none of them.
"""
