"""Command lines: ``cadence-studio`` (:mod:`.studio`, its headless twins in :mod:`.headless`) and
``cadence`` (:mod:`.cadence`: diagrams, validation, scaffolding).

The top layer: it may import every other room. ``cadence-studio`` opens the UI in its own process, so
:mod:`.studio` and what it imports stay off the worker side (user code runs in a worker there too).
"""
