"""Insight across runs in the studio: compare two recorded runs (h, mark two, =) and a score field's
provenance (p in the score pane: the notes that wrote it, in order, with a jump to each).

The comparison is the twin of `cadence-studio history diff`, the provenance of `history provenance`:
both read the same :class:`~cadence_studio.protocol.field_writes.FieldWrites` the session keeps for the
run on screen (live: the writes made so far; a past run: all of them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work

from ...protocol.field_writes import value_at
from ...protocol.session import RunRecord
from ...protocol.value_trees import join_path
from ...store.history import HistoryError
from ..widgets.measure_graph import MeasureGraph
from ..widgets.score_tree import ScoreTree
from .studio_debug import DebugControls

if TYPE_CHECKING:
    from ...store.compare import RunComparison

__all__ = ["RunInsight"]


class RunInsight(DebugControls):
    """Compare two runs and trace a field's writers."""

    @work(thread=True, exclusive=True, group="compare")
    def compare(self, a: int, b: int) -> None:
        """Replay runs ``a`` and ``b`` from the history (off the UI thread) and show them side by side."""
        if self.history is None:
            return
        from ...store.compare import compare_runs  # (the dialogs and what they use: when first opened)

        try:
            comparison = compare_runs(self.history, a, b)
        except HistoryError as error:
            self.app.call_from_thread(
                self.notify, str(error), title="Compare runs", severity="error", timeout=10
            )
            return
        self.app.call_from_thread(self._show_comparison, comparison)

    def _show_comparison(self, comparison: RunComparison) -> None:
        from .run_comparison import RunComparisonScreen

        self.app.push_screen(RunComparisonScreen(comparison))

    @on(ScoreTree.ProvenanceAsked)
    def _provenance_asked(self, event: ScoreTree.ProvenanceAsked) -> None:
        self.show_provenance(event.path)

    def show_provenance(self, path: tuple[str, ...]) -> None:
        """The notes that wrote the field at ``path`` of the score the inspector shows."""
        session = self.session
        entry = session.entry
        run = session.run if session.run is not None and entry and session.run.entry == entry.name else None
        if run is None:
            self.notify(
                "no run on screen: run the cadence (r, n) or open a past run (h) to see which notes "
                "write its fields",
                title="Provenance",
                severity="warning",
            )
            return
        if not path:
            self.notify(
                "move the cursor to a field of the score (↑ ↓ in the Score pane), then press p",
                title="Provenance",
                severity="warning",
            )
            return
        scope = self._scope_shown(run)
        field = join_path(path)
        where = f"run #{self.shown_history_run}" if run.recorded else "this run"
        if not run.finished:
            where += " so far"
        if scope:
            where += f", the score of {scope}"
        initial = value_at(run.writes.initial(scope), list(path))

        def chosen(node_id: str | None) -> None:
            if node_id is not None:
                self.query_one("#graph", MeasureGraph).select(node_id)

        from .field_provenance import FieldProvenanceDialog

        dialog = FieldProvenanceDialog(
            field,
            run.writes.provenance(field, scope),
            where=where,
            initial=None if initial is None else str(initial.get("r", "")),
        )
        self.app.push_screen(dialog, chosen)

    def _scope_shown(self, run: RunRecord) -> str:
        """Whose score the inspector shows (as :meth:`_show_inspector` chose it): a note's, which may
        be a ``.child``'s own, or the run's."""
        node = self.focus_node
        if node is None:
            return ""
        if (run.paused_at is not None and node in (run.paused_at, *run.held)) or node in run.after:
            return run.writes.scope_of(node)
        return ""
