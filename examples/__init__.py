"""Runnable cadence modules: ``python examples/shop.py`` (or ``make demo``) runs the checkout."""
