"""Rich renderables of cross-run insight, shared by the studio's views and the headless commands.

Imports the protocol, the store and Rich; never Textual, the UI, the worker or the command lines.
"""
