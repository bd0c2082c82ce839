"""Small modal dialogs: factory arguments, the initial score as JSON, diagram export."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from ... import protocol as p

__all__ = ["ArgsDialog", "CodeDialog", "ExportDialog", "NewNoteDialog", "ScoreDialog"]


class _Dialog(ModalScreen[Any]):
    """A dialog: Enter in an input (or on the #ok button) submits it, Escape or #cancel closes it.

    No button is styled as the default: the one with the focus is the highlighted one, so what
    Enter does is what the screen shows.
    """

    AUTO_FOCUS = "Input, TextArea, #ok"  # where typing starts; a dialog without inputs: its button
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]
    DEFAULT_CSS = """
    _Dialog, ArgsDialog, ScoreDialog, ExportDialog, NewNoteDialog, CodeDialog { align: center middle; }
    #dialog .options { height: auto; }
    #dialog .options Input { width: 1fr; }
    #dialog TextArea.code { height: 12; }
    #dialog TextArea.hint { height: 4; }
    #dialog { width: 80%; max-width: 100; height: auto; max-height: 90%; border: thick $accent;
              background: $surface; padding: 1 2; }
    #dialog Label { max-width: 100%; }  /* a long text wraps inside the dialog rather than being cut */
    #dialog Label.title { text-style: bold; margin-bottom: 1; }
    #dialog Label.error { color: $error; margin-top: 1; }
    #dialog Label.hint { color: $text-muted; }
    #dialog TextArea { height: 16; }
    #dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    #dialog Button { margin-left: 1; }
    #dialog Button:focus { background: $accent; color: $text; text-style: bold;
                           border-top: tall $accent-lighten-2; border-bottom: tall $accent-darken-3; }
    """

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def submit(self) -> None:
        """What the #ok button does."""
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        elif event.button.id == "cancel":
            self.dismiss(None)

    def show_error(self, text: str) -> None:
        self.query_one("#error", Label).update(text)


class ArgsDialog(_Dialog):
    """Asks for a factory's arguments; returns ``{name: value}`` (JSON values, or text)."""

    def __init__(self, entry: p.CadenceEntry, current: dict[str, Any]) -> None:
        super().__init__()
        self.entry = entry
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Arguments of {self.entry.name}()", classes="title")
            for param in self.entry.params:
                hint = f"{param.name}: {param.annotation or 'any'}" + (
                    "" if param.required else f" = {param.shown_default()}"
                )
                yield Label(hint)
                value = self.current.get(param.name, param.default if not param.required else "")
                yield Input(
                    value="" if value is None else str(value),
                    id=f"arg-{param.name}",
                    placeholder="required" if param.required else "default",
                )
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Run", id="ok")

    def submit(self) -> None:
        values: dict[str, Any] = {}
        for param in self.entry.params:
            text = self.query_one(f"#arg-{param.name}", Input).value.strip()
            if not text:
                if param.required:
                    self.show_error(f"{param.name!r} is required")
                    return
                continue
            try:
                values[param.name] = json.loads(text)
            except json.JSONDecodeError:
                values[param.name] = text
        self.dismiss(values)


class ScoreDialog(_Dialog):
    """Edits the initial score as JSON; ``check`` (the worker) validates it against the score's type.

    Enter in the JSON is a new line; ctrl+s (or the Use button) submits.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "submit", "Use")]
    # A fixed height (capped where the JSON gets its 16 lines) lets the JSON take what the other
    # rows leave: in a short terminal it shrinks and the buttons stay on screen.
    DEFAULT_CSS = """
    ScoreDialog #dialog { height: 90%; max-height: 29; }
    ScoreDialog #dialog TextArea { height: 1fr; }
    """

    def __init__(
        self, title: str, text: str, check: Callable[[dict[str, Any]], Awaitable[str | None]]
    ) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="title")
            yield TextArea(self.text, language="json", id="json")
            yield Label("ctrl+s uses it · esc cancels", classes="hint")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Reset", id="reset")
                yield Button("Cancel", id="cancel")
                yield Button("Use", id="ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "reset":
            event.prevent_default()  # not the dialog's Cancel/OK handling
            self.dismiss({})

    def submit(self) -> None:
        text = self.query_one("#json", TextArea).text
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            self.show_error(f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}")
            return
        if not isinstance(data, dict):
            self.show_error("the score must be a JSON object of field values")
            return
        self.run_worker(self._checked(data), exclusive=True)

    def action_submit(self) -> None:
        self.submit()

    async def _checked(self, data: dict[str, Any]) -> None:
        self.show_error("checking…")
        problem = await self.check(data)
        if problem:
            self.show_error(problem)
        else:
            self.dismiss(data)


class ExportDialog(_Dialog):
    """Chooses a format and a file; returns ``(format, path)``."""

    FORMATS: ClassVar[list[tuple[str, str]]] = [
        ("Mermaid (.mmd)", "mermaid"),
        ("Graphviz DOT (.dot)", "dot"),
        ("SVG (.svg)", "svg"),
        ("PNG (.png)", "png"),
    ]
    SUFFIX: ClassVar[dict[str, str]] = {"mermaid": ".mmd", "dot": ".dot", "svg": ".svg", "png": ".png"}

    def __init__(self, name: str, with_run: bool) -> None:
        super().__init__()
        self.name_ = name
        self.with_run = with_run

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            note = " (with the statuses of the selected run)" if self.with_run else ""
            yield Label(f"Export {self.name_}{note}", classes="title")
            yield Select(self.FORMATS, value="svg", allow_blank=False, id="format")
            yield Input(value=f"{self.name_}.svg", id="path")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="ok")

    def on_select_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#path", Input)
        stem = Path(path.value).stem or self.name_
        path.value = stem + self.SUFFIX[str(event.value)]

    def submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.show_error("give a file name")
            return
        self.dismiss((str(self.query_one("#format", Select).value), path))


class NewNoteDialog(_Dialog):
    """Asks for a new note's name, kind and decorators; returns the options (the screen scaffolds)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("New note", classes="title")
            yield Label("name (kebab-case is fine: process-payment)")
            with Horizontal(classes="options"):  # one row: the dialog fits a 24-row terminal
                yield Input(id="name", placeholder="process_payment")
                yield Checkbox("async", value=True, id="async")
            yield Label("optional: @retry attempts · @timeout seconds · @fallback")
            with Horizontal(classes="options"):
                yield Input(id="retry", placeholder="retry: 3", type="integer")
                yield Input(id="timeout", placeholder="timeout: 2.0", type="number")
                yield Input(id="fallback", placeholder="fallback: None")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="ok")

    def submit(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.show_error("give the note a name")
            return
        retry = self.query_one("#retry", Input).value.strip()
        timeout = self.query_one("#timeout", Input).value.strip()
        fallback = self.query_one("#fallback", Input).value.strip()
        self.dismiss(
            {
                "name": name,
                "is_async": self.query_one("#async", Checkbox).value,
                "retry": int(retry) if retry else None,
                "timeout": float(timeout) if timeout else None,
                "fallback": fallback or None,
            }
        )


class CodeDialog(_Dialog):
    """Shows generated files and what to do next."""

    def __init__(self, title: str, files: list[tuple[str, str]], hint: str) -> None:
        super().__init__()
        self.title_text = title
        self.files = files
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="title")
            for path, code in self.files:
                yield Label(path)
                yield TextArea(code, language="python", read_only=True, classes="code")
            yield Label("Add to your cadence:", classes="title")
            yield TextArea(self.hint, language="python", read_only=True, classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="ok")
