"""A score field's provenance: every note that wrote it in the run on screen, in order, old → new.

The twin of `cadence-studio history provenance RUN FIELD`. Enter on a write closes the dialog and
selects its note in the graph (its score after it shows in the inspector).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from ...protocol.field_writes import FieldWrite
from ...render.run_tables import clean

__all__ = ["FieldProvenanceDialog"]

_HOW = {"note": "", "merge": "  (the group's merge)", "child": "  (the child's merge)"}
_VALUE_WIDTH = 200  # a value is cut here; the option list wraps what fits
_PARTS_FROM = 60  # a container's repr longer than this is shown by what changed in it (``+2: 'pen'``)


class FieldProvenanceDialog(ModalScreen[str | None]):
    """Lists the writes of one field; returns the node id to select (``None`` when closed)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Close")]
    DEFAULT_CSS = """
    FieldProvenanceDialog { align: center middle; }
    FieldProvenanceDialog #dialog { width: 90%; max-width: 120; height: auto; max-height: 90%;
                                   border: thick $accent; background: $surface; padding: 1 2; }
    FieldProvenanceDialog Label { max-width: 100%; }
    FieldProvenanceDialog Label.title { text-style: bold; margin-bottom: 1; }
    FieldProvenanceDialog OptionList { height: auto; max-height: 1fr; }
    FieldProvenanceDialog Label.hint { color: $text-muted; margin-top: 1; }
    FieldProvenanceDialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    """

    def __init__(self, field: str, writes: list[FieldWrite], *, where: str, initial: str | None) -> None:
        super().__init__()
        self.field = field
        self.writes = writes
        self.where = where
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            count = f"written {len(self.writes)} time(s)" if self.writes else "no note wrote it"
            yield Label(Text(f"{clean(self.field)} in {self.where}: {count}"), classes="title")
            if self.writes:
                yield OptionList(
                    *(
                        Option(_prompt(index, write), id=str(index))
                        for index, write in enumerate(self.writes, 1)
                    ),
                    id="writes",
                )
                yield Label("Enter selects the note in the graph.", classes="hint")
            else:
                kept = f"it kept {clean(self.initial)}" if self.initial is not None else "it kept its value"
                yield Label(Text(kept), id="kept")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="cancel")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.dismiss(self.writes[int(event.option_id) - 1].node_id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _prompt(index: int, write: FieldWrite) -> Text:
    """``1. checkout/load_cart`` then, below it, ``old → new`` (a container's: what changed in it)."""
    text = Text(f"{index:>2}. ", style="dim")
    text.append(clean(write.node_id), style="bold")
    text.append(_HOW[write.how], style="italic dim")
    text.append("\n    ")
    parts = write.summary()
    long = max(len(write.old), len(write.new)) > _PARTS_FROM
    if parts is not None and (long or write.old.endswith("…") or write.new.endswith("…")):
        text.append(_cut(parts), style="yellow")
        return text
    text.append(_cut(write.old), style="red")
    text.append(" → ", style="dim")
    text.append(_cut(write.new), style="green")
    return text


def _cut(value: str) -> str:
    shown = clean(value)
    return shown if len(shown) <= _VALUE_WIDTH else shown[: _VALUE_WIDTH - 1] + "…"
