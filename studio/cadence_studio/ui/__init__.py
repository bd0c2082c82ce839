"""The UI side: runs in the Textual process and never imports the user's code.

:mod:`.app` routes screens, :mod:`.screens` and :mod:`.widgets` draw, :mod:`.client` starts and talks to
the worker (a subprocess, over the protocol), :mod:`.layout` lays a cadence's graph out in cells.

Imports the protocol, the run history (store), scaffolding, the engine's diagrams, Textual and Rich;
never the worker side nor the command lines. Importing this package loads nothing.
"""
