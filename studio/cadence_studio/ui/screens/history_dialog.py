"""The run history picker: the project's recorded runs as a tree, newest first; Enter opens one, and
two runs marked (m or space) are compared with ``=``.

When the project names a Temporal server (``[tool.cadence] temporal``), its cadence runs follow the local
ones, fetched on a thread once the dialog is open (a server that does not answer is one line, the local
runs stay listed); choosing one returns its workflow id (a ``str``) instead of a run number.

A run resumed or re-run from a note of another run is listed under it, with how it came from it;
when the history has such runs, a line under the list says where the highlighted run came from in
full (a narrow terminal cuts the end of the list's lines).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, OptionList
from textual.widgets.option_list import Option

from cadence.diagram import format_duration

from ...errors import HistoryError
from ...protocol.session import status_style
from ...store.history import RunSummary
from ...store.lineage import TreeRow, describe, origin, tree

if TYPE_CHECKING:  # the Temporal client comes with the `temporal` extra: imported when a server is set
    from ...store.temporal_server import TemporalRun

__all__ = ["Compare", "HistoryDialog"]

_LIST_ROWS = 20  # the most the list of runs takes, even in a tall terminal
_TEMPORAL_RUNS = 50  # the newest runs of the Temporal server listed
_MARKS = ("A", "B")  # the marked runs, older first: the comparison's two sides


@dataclasses.dataclass(frozen=True)
class Compare:
    """The dialog's answer when two runs were marked and ``=`` pressed: run ``a`` (the older), ``b``."""

    a: int
    b: int


class HistoryDialog(ModalScreen[int | str | Compare | None]):
    """Lists recorded runs, each under the run it came from, then the Temporal server's cadence runs;
    returns the chosen run's id (a Temporal run's workflow id), the two local runs to compare, or
    ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("m,space", "mark", "Mark", tooltip="Mark the highlighted run to compare (two at most)"),
        Binding("equals_sign", "compare", "Compare", key_display="=", tooltip="Compare the two marked runs"),
    ]
    DEFAULT_CSS = """
    HistoryDialog { align: center middle; }
    HistoryDialog #dialog { width: 90%; max-width: 120; height: auto; max-height: 90%;
                            border: thick $accent; background: $surface; padding: 1 2; }
    HistoryDialog Label { max-width: 100%; }  /* wraps in a narrow terminal rather than being cut */
    HistoryDialog Label.title { text-style: bold; margin-bottom: 1; }
    HistoryDialog OptionList { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    HistoryDialog Label.hint { color: $text-muted; margin-top: 1; }
    HistoryDialog Label#lineage { color: $text-muted; text-style: italic; }
    HistoryDialog Label#temporal { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    HistoryDialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    HistoryDialog Button { margin-left: 1; }
    """

    def __init__(
        self,
        runs: list[RunSummary],
        *,
        where: str,
        problem: str | None = None,
        temporal: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.runs = runs
        self.where = where
        self.problem = problem
        #: the Temporal server (address, namespace) whose cadence runs are listed too
        self.temporal = temporal
        self.temporal_runs: list[TemporalRun] = []
        self._columns: tuple[tuple[int, int], int] = ((0, 0), 0)
        self.marked: list[int] = []  # in the order they were marked; the oldest mark goes at a third

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Run history — {self.where}", classes="title")
            if not self.runs and self.temporal is not None:
                yield Label(self.problem or "No local runs recorded yet.")
            if self.runs or self.temporal is not None:
                readable = [run for run in self.runs if run.unreadable is None]
                widths = (
                    max((len(run.entry) for run in readable), default=0),
                    max((len(run.status) for run in readable), default=0),
                )
                today = time.localtime()[:3]
                rows = tree(self.runs)
                indent = max((len(row.prefix) for row in rows), default=0)
                self._columns = (widths, indent)  # the Temporal runs line up with these
                self._prompts = {row.run.id: _prompt(row, widths, indent, today) for row in rows}
                yield OptionList(
                    *(Option(self._marked(row.run.id), id=str(row.run.id)) for row in rows), id="runs"
                )
                if self.runs and any(run.parent is not None for run in self.runs):
                    yield Label(_origin(rows[0].run), id="lineage")
                if self.temporal is not None:
                    yield Label(f"Temporal {self.temporal[0]}: loading its cadence runs…", id="temporal")
                yield Label(
                    "Enter opens a run as it was: its graph, timeline and every score"
                    + (" (T: a run on Temporal)" if self.temporal is not None else "")
                    + ". m marks two runs, = compares them.",
                    classes="hint",
                )
            else:
                yield Label(self.problem or "No runs recorded yet: press r to run a cadence.")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="cancel")
        yield Footer(compact=True)

    def _marked(self, run_id: int) -> Text:
        """The run's line, after a column of marks (A or B) while runs are marked."""
        if not self.marked:
            return self._prompts[run_id]
        order = sorted(self.marked)
        mark = _MARKS[order.index(run_id)] if run_id in order else " "
        line = Text(no_wrap=True, overflow="ellipsis")  # (a style given to Text() would be the whole line's)
        line.append(mark, style="bold reverse" if run_id in order else "")
        line.append(" ")
        line.append_text(self._prompts[run_id])
        return line

    def action_mark(self) -> None:
        """Mark (or unmark) the highlighted run; a third mark replaces the oldest."""
        options = self.query(OptionList)
        option = options.first().highlighted_option if options else None
        if option is None or option.id is None:
            return
        if option.id.startswith("t:"):
            self.notify("runs on Temporal cannot be compared yet; mark two local runs", title="Compare runs")
            return
        run = int(option.id)
        if run in self.marked:
            self.marked.remove(run)
        else:
            self.marked = [*self.marked[-1:], run]
        runs = options.first()
        for run_id in self._prompts:
            runs.replace_option_prompt(str(run_id), self._marked(run_id))

    def action_compare(self) -> None:
        """Compare the two marked runs (or the one marked and the highlighted one)."""
        marked = list(self.marked)
        options = self.query(OptionList)
        option = options.first().highlighted_option if options else None
        highlighted = option.id if option is not None and option.id is not None else ""
        if len(marked) == 1 and highlighted.isdigit() and int(highlighted) != marked[0]:
            marked.append(int(highlighted))
        if len(marked) != 2:
            self.notify(
                "mark two runs with m (or space), then press = to compare them",
                title="Compare runs",
                severity="warning",
            )
            return
        unreadable = [r for r in self.runs if r.id in marked and r.unreadable is not None]
        if unreadable:
            run = unreadable[0]
            self.notify(
                f"run #{run.id} is unreadable: {run.unreadable}", title="Compare runs", severity="error"
            )
            return
        a, b = sorted(marked)
        self.dismiss(Compare(a, b))

    def on_resize(self, event: events.Resize) -> None:
        # The list gives up rows first, so the hint and Close stay on screen in a short terminal:
        # 90% of the screen, less what the title, hint, buttons, border and padding take (and the
        # line saying where the highlighted run came from).
        # The footer and a hint on two lines take two more.
        reserved = 14 + len(self.query("#lineage")) + len(self.query("#temporal"))
        for options in self.query(OptionList):
            options.styles.max_height = max(3, min(_LIST_ROWS, event.size.height * 9 // 10 - reserved))

    def on_mount(self) -> None:
        if self.temporal is not None:
            self.load_temporal(*self.temporal)

    @work(thread=True, exclusive=True, group="temporal-runs")
    def load_temporal(self, address: str, namespace: str) -> None:
        """The server's cadence runs, off the UI's thread (a slow or absent server never freezes it)."""
        try:
            from ...store.temporal_server import list_runs, run_sync

            runs = run_sync(list_runs(address, namespace, limit=_TEMPORAL_RUNS))
        except ImportError:
            problem = "reading Temporal runs needs temporalio: pip install 'cadence-studio[temporal]'"
            self.app.call_from_thread(self._temporal_loaded, [], problem)
            return
        except HistoryError as error:
            self.app.call_from_thread(self._temporal_loaded, [], str(error))
            return
        except Exception as error:  # anything else the client raises: a notice, never a crash
            self.app.call_from_thread(self._temporal_loaded, [], f"{type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._temporal_loaded, runs, None)

    def _temporal_loaded(self, runs: list[TemporalRun], problem: str | None) -> None:
        assert self.temporal is not None
        label = self.query_one("#temporal", Label)
        self.temporal_runs = runs
        if problem is not None:  # one line: what went wrong, not the whole fix (the CLI prints that)
            label.update(f"Temporal: {problem.split('; ', 1)[0]}")
            label.tooltip = problem
            return
        label.update(f"Temporal {self.temporal[0]}: {len(runs)} cadence run{'s' * (len(runs) != 1)}")
        if runs:
            options = self.query_one("#runs", OptionList)
            (cadence, status), indent = self._columns
            widths = (
                max(cadence, *(len(run.cadence) for run in runs)),
                max(status, *(len(run.status) for run in runs)),
            )
            today = time.localtime()[:3]
            extra: list[Option | None] = [None] if options.option_count else []
            extra += [
                Option(_temporal_prompt(run, widths, indent, today), id=f"t:{run.workflow_id}")
                for run in runs
            ]
            options.add_options(extra)
            if options.highlighted is None:  # no local run: the keys work on the Temporal ones
                options.highlighted = len(extra) - len(runs)
                options.focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_id is None or event.option_id.startswith("t:"):
            return
        run = next(r for r in self.runs if r.id == int(event.option_id))
        for label in self.query("#lineage").results(Label):
            label.update(_origin(run))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is None:
            return
        if event.option_id.startswith("t:"):
            self.dismiss(event.option_id.removeprefix("t:"))
            return
        run = next(r for r in self.runs if r.id == int(event.option_id))
        if run.unreadable is not None:  # nothing to open: say why, and stay on the list
            self.notify(
                f"run #{run.id} is unreadable: {run.unreadable}", title="Run history", severity="error"
            )
            return
        self.dismiss(run.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _prompt(row: TreeRow[RunSummary], widths: tuple[int, int], indent: int, today: tuple[int, ...]) -> Text:
    """One line per run (cut with … in a narrow terminal): its branch of the tree, number, time,
    cadence, status, time taken, then how it came from its parent and its arguments and error.

    ``widths`` are the cadence and status columns' widths: the longest shown, and ``indent`` the
    widest branch, so the columns line up whatever the depth.
    """
    run = row.run
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(row.prefix, style="dim")
    number = f"#{run.id:<4}".ljust(5 + indent - len(row.prefix))
    if run.unreadable is not None:  # a damaged row: say why, in place of what cannot be shown
        text.append(f"{number} ", style="bold")
        text.append("unreadable", style="red")
        text.append(f"  {run.unreadable}", style="dim")
        return text
    started = time.localtime(run.started)
    when = time.strftime("%H:%M:%S" if started[:3] == today else "%m-%d %H:%M", started)
    text.append(f"{number} ", style="bold")
    text.append(f"{when}  ", style="dim")
    text.append(f"{run.entry:<{widths[0]}}  ")
    text.append(f"{run.status:<{widths[1]}}", style=status_style(run.status))
    text.append(f"{_took(run.duration):>9}")
    how = describe(run)
    if how is not None:
        text.append(f"  {how}", style="italic")
    if row.orphan is not None:
        text.append(f" {row.orphan}", style="yellow")
    detail: list[str] = []
    if run.args:
        detail.append(", ".join(f"{k}={_short(v)}" for k, v in run.args.items()))
    if run.error:
        detail.append(run.error)
    if detail:
        text.append("  " + " · ".join(detail), style="dim")
    return text


def _temporal_prompt(run: TemporalRun, widths: tuple[int, int], indent: int, today: tuple[int, ...]) -> Text:
    """One line per Temporal run, in the local runs' columns ("T" for a number), its workflow id last."""
    text = Text(no_wrap=True, overflow="ellipsis")
    started = time.localtime(run.started or 0)
    when = time.strftime("%H:%M:%S" if started[:3] == today else "%m-%d %H:%M", started)
    text.append("T".ljust(5 + indent) + " ", style="bold cyan")
    text.append(f"{when}  ", style="dim")
    text.append(f"{run.cadence:<{widths[0]}}  ")
    text.append(f"{run.status:<{widths[1]}}", style=status_style(run.status))
    text.append(f"{_took(run.duration):>9}")
    text.append(f"  {run.workflow_id}", style="dim")
    return text


def _origin(run: RunSummary) -> str:
    """Where ``run`` came from, in full (for the line under the list)."""
    came_from = origin(run)
    if came_from is None:
        return f"#{run.id}: a fresh run (not resumed, nor re-run from another run)"
    return f"#{run.id}: {came_from}"


def _took(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return format_duration(seconds)


def _short(value: Any, limit: int = 24) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
