"""What outlives a process: the project's run history (SQLite in ``.cadence/``) and its writer thread.

Imports the protocol (it stores and replays protocol messages); never the UI, the worker or Textual.
"""
