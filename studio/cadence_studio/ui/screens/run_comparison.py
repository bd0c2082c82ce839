"""Two recorded runs side by side: the table `cadence-studio history diff A B` prints, in a screen.

Per note, in graph order: each run's status, time and the score fields it wrote, old → new; what
differs is bold yellow and its note marked ≠. ``d`` shows only the notes that differ.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...render.run_tables import comparison_table
from ...store.compare import RunComparison

__all__ = ["RunComparisonScreen"]


class RunComparisonScreen(Screen[None]):
    """Shows a :class:`RunComparison`; Escape goes back to the studio."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("d", "toggle_differences", "Only differences", tooltip="Show only the notes that differ"),
    ]
    DEFAULT_CSS = """
    RunComparisonScreen #title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    RunComparisonScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, comparison: RunComparison) -> None:
        super().__init__()
        self.comparison = comparison
        self.only_differences = False

    def compose(self) -> ComposeResult:
        a, b = self.comparison.a, self.comparison.b
        yield Static(f"Compare runs #{a.id} (A) and #{b.id} (B)", id="title", markup=False)
        with VerticalScroll(id="comparison-scroll"):
            yield Static(id="comparison")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._draw()
        self.query_one("#comparison-scroll").focus()

    def _draw(self) -> None:
        table = comparison_table(self.comparison, only_differences=self.only_differences)
        self.query_one("#comparison", Static).update(table)

    def action_toggle_differences(self) -> None:
        self.only_differences = not self.only_differences
        self._draw()

    def action_close(self) -> None:
        self.dismiss(None)
