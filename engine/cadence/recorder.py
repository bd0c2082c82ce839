"""A listener that records a run: its events and each node's status and duration."""

from __future__ import annotations

from typing import Any

from . import events as ev

__all__ = ["RunRecorder"]


class RunRecorder:
    """Pass as a listener (``cadence.run(score, listeners=[rec])``); then read ``events`` and ``statuses``.

    ``statuses`` maps node ids to ``{"status", "duration"?, "error"?}`` and can be handed to the
    diagram functions to colour a finished run.
    """

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.statuses: dict[str, dict[str, Any]] = {}

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)
        if isinstance(event, ev.NoteStarted):
            self.statuses[event.node_id] = {"status": "running"}
        elif isinstance(event, ev.NoteFinished):
            entry: dict[str, Any] = {"status": event.status, "duration": event.duration}
            if event.error is not None:
                entry["error"] = f"{type(event.error).__name__}: {event.error}"
            self.statuses[event.node_id] = entry
        elif isinstance(event, (ev.Forked, ev.ChildEntered)):
            self.statuses[event.node_id] = {"status": "running"}
        elif isinstance(event, ev.Merged):
            status = "failed" if event.error else "done"
            self.statuses[event.node_id] = {"status": status, "duration": event.duration}
        elif isinstance(event, ev.ChildLeft):
            status = "failed" if event.error else "done"
            self.statuses[event.node_id] = {"status": status, "duration": event.duration}
        elif isinstance(event, ev.BranchTaken):
            self.statuses[event.node_id] = {"status": "done", "branch": event.branch}
            skipped = "false" if event.branch == "true" else "true"
            self.statuses.setdefault(f"{event.node_id}/{skipped}", {"status": "skipped"})

    @property
    def kinds(self) -> list[str]:
        """The event kinds in order (handy in tests and logs)."""
        return [e.kind for e in self.events]
