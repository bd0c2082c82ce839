"""The worker side: runs in the worker process, next to the user's code (``python -m cadence_studio.worker``).

:mod:`.runner` is the loop (commands in, protocol messages out), :mod:`.loader` imports the user's module,
:mod:`.catalog` describes what it found, :mod:`.values` and :mod:`.score_input` turn scores into value trees
and back, :mod:`.tracebacks` shows the user's errors, :mod:`._io` keeps the pipes away from the user's code.

Imports the protocol and the engine; never Textual, Rich, the UI or the command lines.
"""
