"""Two runs compared, and a field's provenance, as Rich tables (the studio shows what the CLI prints).

Values are the short reprs the worker made; a control character in a name or a value is shown as an
escape, never sent to the terminal.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cadence.diagram import format_duration

from ..protocol.field_writes import FieldWrite
from ..protocol.session import status_style
from ..store.compare import NoteRow, RunComparison, Side
from ..store.history import RunSummary

__all__ = ["comparison_table", "provenance_table", "run_title"]

_CONTROLS = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(code) != "\n"}
_NAME_WIDTH = 26  # the note column's widest (a deeper or longer name is cut with …)
_VALUE_WIDTH = 60  # a value longer than this is cut with … (the JSON output keeps it whole)
_HOW = {"note": "", "merge": "merge", "child": "child's merge"}


def clean(text: str) -> str:
    """``text`` with control characters written as escapes."""
    return text.translate(_CONTROLS)


def run_title(run: RunSummary) -> str:
    """``#12 checkout done 159 ms``."""
    took = f" {format_duration(run.duration)}" if run.duration is not None else ""
    return clean(f"#{run.id} {run.entry} {run.status}{took}")


def comparison_table(comparison: RunComparison, *, only_differences: bool = False) -> RenderableType:
    """A row per note: each run's status, time and the fields the note wrote, old → new; what differs
    is bold yellow (the note column is marked ≠), what is the same is dim."""
    a, b = comparison.a, comparison.b
    rows = [row for row in comparison.rows if row.differs or not only_differences]
    names = [f"{'  ' * row.depth}{row.node_id.rsplit('/', 1)[-1]}" for row in rows]
    # every other note on a shade, so that a note's lines read as one row
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, row_styles=["", "on grey11"])
    width = min(_NAME_WIDTH, 2 + max((len(name) for name in names), default=4))
    table.add_column("note", width=width, no_wrap=True, overflow="ellipsis")
    table.add_column(Text(f"A  {run_title(a)}", style=status_style(a.status)), ratio=1, overflow="fold")
    table.add_column(Text(f"B  {run_title(b)}", style=status_style(b.status)), ratio=1, overflow="fold")
    for row, shown in zip(rows, names, strict=True):
        name = Text()  # (a style given to Text() would be the whole line's)
        name.append("≠ " if row.differs else "  ", style="bold yellow")
        name.append(clean(shown), style="bold" if row.differs else "")
        fields = list(row.a.writes) + [n for n in row.b.writes if n not in row.a.writes]
        table.add_row(name, _cell(row, row.a, fields), _cell(row, row.b, fields))
    same = len(comparison.rows) - comparison.differences
    if only_differences and same:
        table.caption = f"{same} note(s) the same in both runs not shown"
    summary = Text(
        f"{comparison.differences} of {len(comparison.rows)} notes differ"
        if comparison.differences
        else f"the {len(comparison.rows)} notes ran the same in both runs",
        style="bold yellow" if comparison.differences else "green",
    )
    if a.entry != b.entry:
        summary.append(f"  (different cadences: {clean(a.entry)}, {clean(b.entry)})", style="yellow")
    return Group(summary, table)


def _cell(row: NoteRow, side: Side, names: list[str]) -> Text:
    text = Text()
    differs = set(row.differs)
    if not side.ran:
        text.append(f"· {side.status}", style="italic yellow" if "status" in differs else "dim italic")
    else:
        status_is = "bold " if "status" in differs else ""
        text.append(side.status, style=status_is + status_style(side.status))
        if side.duration is not None:
            text.append(
                f" {format_duration(side.duration)}", style="bold yellow" if "duration" in differs else "dim"
            )
        marks = []
        if side.attempts > 1:
            marks.append(f"↻{side.attempts}")
        if side.fell_back:
            marks.append("↪ fell back")
        if marks:
            text.append(" " + " ".join(marks), style="bold yellow" if "resilience" in differs else "yellow")
    for name in names:
        write = side.writes.get(name)
        style = "bold yellow" if row.field_differs(name) else "dim"
        text.append("\n")
        if write is None:
            text.append(f"{clean(name)}: not written", style="dim italic" if side.ran else "dim")
            continue
        text.append(f"{clean(name)}: ", style=style)
        text.append_text(_change(write, style))
    return text


def provenance_table(
    field: str, writes: list[FieldWrite], *, where: str, initial: str | None
) -> RenderableType:
    """Every write of ``field``, in order: the note (or merge), old → new; ``initial`` is its value
    when the run began, if known (said when nothing wrote it)."""
    title = Text(f"{clean(field)} in {clean(where)}: ", style="bold")
    if not writes:
        kept = f", it kept {_value(initial)}" if initial is not None else ""
        title.append(f"no note wrote it{kept}", style="yellow")
        return title
    title.append(f"written {len(writes)} time(s)", style="")
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    table.add_column("#", justify="right", width=3)
    table.add_column("note", ratio=3, overflow="fold")
    table.add_column("old → new", ratio=5, overflow="fold")
    for index, write in enumerate(writes, 1):
        how = f" ({_HOW[write.how]})" if write.how != "note" else ""
        change = _change(write, "")
        table.add_row(str(index), Text(clean(write.node_id) + how), change)
    return Group(title, table)


def _change(write: FieldWrite, style: str) -> Text:
    """``old → new``; a container's by what changed inside it (``+2: 'pen'``), when its repr is cut."""
    parts = write.summary()
    if parts is not None and (
        max(len(write.old), len(write.new)) > _VALUE_WIDTH
        or write.old.endswith("…")
        or write.new.endswith("…")
    ):
        return Text(clean(parts), style=style)
    text = Text(_value(write.old), style=style or "red")
    text.append(" → ", style="dim")
    text.append(_value(write.new), style=style or "green")
    return text


def _value(text: str | None) -> str:
    shown = clean(text or "")
    return shown if len(shown) <= _VALUE_WIDTH else shown[: _VALUE_WIDTH - 1] + "…"
