"""The data breakpoints dialog (W): list the watches, add an expression, remove one.

An expression is only compiled here (parsed, never evaluated: the worker evaluates it after each
note), so one that does not compile is refused at once, with the problem named.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList

from ...protocol.watches import Watch, normalised, watch_problem
from .dialogs import _Dialog

__all__ = ["WatchDialog"]


class WatchDialog(_Dialog):
    """Returns the watches as edited (Done), or None (Escape: nothing changes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "remove", "Remove", tooltip="Remove the highlighted watch"),
    ]
    DEFAULT_CSS = """
    WatchDialog { align: center middle; }
    WatchDialog #watch-list { height: auto; max-height: 8; margin-bottom: 1; }
    """

    def __init__(self, watches: list[Watch]) -> None:
        super().__init__()
        self.watches = list(watches)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Data breakpoints: pause right after a note when…", classes="title")
            yield OptionList(*self._labels(), id="watch-list")
            yield Input(placeholder="score.total > 10000   (a Python expression over score)", id="watch-expr")
            yield Label("", id="error", classes="error")
            yield Label(
                "enter: add the expression · w on a score field watches it · "
                "delete: remove the highlighted one · escape: cancel",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Done", id="ok")
                yield Button("Cancel", id="cancel")

    def _labels(self) -> list[str]:
        return [w.label() for w in self.watches] or ["(none yet)"]

    def _refill(self) -> None:
        listing = self.query_one("#watch-list", OptionList)
        listing.clear_options()
        listing.add_options(self._labels())

    def submit(self) -> None:
        """Enter in the input adds its expression; Enter on an empty input (or Done) closes."""
        box = self.query_one("#watch-expr", Input)
        text = box.value.strip()
        if not text:
            self.dismiss(self.watches)
            return
        watch = normalised(Watch(kind="expr", text=text))
        problem = watch_problem(watch)
        if problem is not None:
            self.show_error(f"refused: {problem}")
            return
        if watch not in self.watches:
            self.watches.append(watch)
        box.value = ""
        self.show_error("")
        self._refill()

    def action_remove(self) -> None:
        listing = self.query_one("#watch-list", OptionList)
        index = listing.highlighted
        if not listing.has_focus or index is None or index >= len(self.watches):
            return
        del self.watches[index]
        self._refill()
