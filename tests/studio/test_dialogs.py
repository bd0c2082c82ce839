"""The studio's dialogs: Run runs, Enter in an input submits, the focused button is the highlighted one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.color import Color
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Label

from cadence_studio import protocol as p
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.dialogs import ArgsDialog, ExportDialog, NewNoteDialog, ScoreDialog
from cadence_studio.ui.screens.watch_dialog import WatchDialog
from tests.studio.scripted import ScriptedClient, entry, factory_entry

SIZE = (160, 48)


def app_with(client: ScriptedClient) -> StudioApp:
    return make_app("tests", client=client, watch=False, history=False)


def factory_with_defaults() -> p.CadenceEntry:
    """A factory that draws with its defaults (so r runs it at once) and takes a ``user``."""
    drawn = entry(name="make_order")
    return drawn.model_copy(
        update={"kind": "factory", "params": [p.Param(name="user", annotation="str", default="u-1")]}
    )


async def test_a_opens_the_arguments_and_run_runs_with_them() -> None:
    """a on a factory asks for its arguments; the dialog's Run starts a run with them."""
    client = ScriptedClient(entries=[factory_with_defaults()])
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ArgsDialog)
        app.screen.query_one("#arg-user").value = "u-7"  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await pilot.pause()
        assert not isinstance(app.screen, ArgsDialog)
        runs = client.commands(p.Run)
        assert [(run.target, run.args) for run in runs] == [("make_order", {"user": "u-7"})]


async def test_a_on_a_cadence_object_says_it_takes_no_arguments() -> None:
    """a on a module-level Cadence (not a factory) opens nothing and says why."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ArgsDialog)
        shown = [n.message for n in app._notifications]
        assert any("order is a Cadence object, so it takes no arguments" in m for m in shown), shown


async def test_enter_in_the_arguments_input_runs() -> None:
    """Typing a required argument and pressing Enter runs the factory with it."""
    client = ScriptedClient(entries=[factory_entry()])
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.focused, type(app.screen.query_one("#arg-user")))
        await pilot.press(*"u-5", "enter")
        await pilot.pause()
        assert client.commands(p.Run)[-1].args == {"user": "u-5"}


async def test_enter_in_the_export_path_exports(tmp_path: Path) -> None:
    """E, a file name, Enter: the diagram is written."""
    client = ScriptedClient()
    app = app_with(client)
    target = tmp_path / "order.dot"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        app.screen.query_one("#format").value = "dot"  # type: ignore[attr-defined]
        await pilot.pause()
        app.screen.query_one("#path").value = str(target)  # type: ignore[attr-defined]
        app.screen.query_one("#path").focus()
        await pilot.press("enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if target.exists():
                break
    assert target.read_text().startswith("digraph")


async def test_enter_in_the_new_note_name_creates_it(tmp_path: Path) -> None:
    """N, a name, Enter: the note and its test are written."""
    module = tmp_path / "order.py"
    module.write_text("")
    client = ScriptedClient(module_file=str(module))
    app = make_app("tests", cwd=tmp_path, client=client, watch=False, history=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, NewNoteDialog)
        await pilot.press(*"ship", "enter")
        for _ in range(40):
            await pilot.pause(0.05)
            if (tmp_path / "ship.py").exists():
                break
    assert (tmp_path / "ship.py").exists()


async def test_ctrl_s_in_the_score_dialog_uses_the_json() -> None:
    """In the score's JSON Enter is a new line; ctrl+s checks and uses it."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ScoreDialog)
        app.screen.query_one("#json").text = json.dumps({"user": "u-9"})  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ScoreDialog)
        await pilot.press("r")
        assert client.commands(p.Run)[-1].score == {"user": "u-9"}


def background(button: Button) -> Color:
    return button.styles.background


async def check_focus_highlights(pilot: Pilot[None]) -> None:
    """Tab through the dialog's buttons: each focused one stands out, and only that one."""
    dialog = pilot.app.screen
    buttons = list(dialog.query(Button))
    assert len(buttons) >= 1
    pilot.app.set_focus(None)
    await pilot.pause()
    resting = {background(b) for b in buttons}
    assert len(resting) == 1, f"{type(dialog).__name__}: a button is highlighted without focus"
    for button in buttons:
        button.focus()
        await pilot.pause()
        assert background(button) not in resting, f"{button.id} has the focus but does not stand out"
        others = {background(b) for b in buttons if b is not button}
        assert others <= resting, f"{type(dialog).__name__}: {button.id} focused, another is highlighted"


async def test_the_focused_button_is_the_highlighted_one(tmp_path: Path) -> None:
    """In every dialog, no button looks like the default one: the focused button is highlighted."""
    module = tmp_path / "order.py"
    module.write_text("")
    client = ScriptedClient(entries=[factory_with_defaults()], module_file=str(module))
    app = make_app("tests", cwd=tmp_path, client=client, watch=False, history=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, kind in (
            ("a", ArgsDialog),
            ("i", ScoreDialog),
            ("E", ExportDialog),
            ("N", NewNoteDialog),
            ("W", WatchDialog),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, kind)
            await check_focus_highlights(pilot)
            await pilot.press("escape")
            await pilot.pause()


def cut_off(dialog: Screen[Any]) -> list[str]:
    """The buttons and labels of ``dialog`` that are not whole inside its box (and so on screen)."""
    box = dialog.query_one("#dialog").content_region
    assert dialog.region.contains_region(box)
    parts: list[Widget] = [*dialog.query(Button), *dialog.query(Label)]
    return [
        f"{type(part).__name__} {part.id or str(part.render())[:30]!r} at {part.region}"
        for part in parts
        if part.region.area and not box.contains_region(part.region)
    ]


async def test_every_dialog_fits_at_80x24(tmp_path: Path) -> None:
    """80×24: a, i, E, N and W show their buttons and texts whole (the score's JSON shrinks to make room)."""
    module = tmp_path / "order.py"
    module.write_text("")
    client = ScriptedClient(entries=[factory_with_defaults()], module_file=str(module))
    app = make_app("tests", cwd=tmp_path, client=client, watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key, kind in (
            ("a", ArgsDialog),
            ("i", ScoreDialog),
            ("E", ExportDialog),
            ("N", NewNoteDialog),
            ("W", WatchDialog),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, kind)
            assert cut_off(app.screen) == [], kind.__name__
            await pilot.press("escape")
            await pilot.pause()


async def test_the_score_dialog_keeps_its_json_tall_when_there_is_room() -> None:
    """160×48: the JSON keeps its 16 lines; only a short terminal makes it smaller."""
    app = app_with(ScriptedClient())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ScoreDialog)
        assert app.screen.query_one("#json").region.height == 16
        assert cut_off(app.screen) == []
