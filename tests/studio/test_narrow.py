"""80×24: the timeline is a key away (t), and the footer's keys fit, none cut mid-word."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.screens.studio import StudioScreen
from tests.studio.scripted import ScriptedClient, event, order_tree


def app_with(client: ScriptedClient) -> StudioApp:
    return make_app("tests", client=client, watch=False, history=False)


def footer_keys(app: StudioApp) -> list[FooterKey]:
    return list(app.screen.query_one(Footer).query(FooterKey))


async def footer_drawn(pilot: Pilot[None]) -> None:
    """Wait for the footer's keys (it recomposes after a resize or a change of focus)."""
    for _ in range(100):
        await pilot.pause(0.02)
        if footer_keys(pilot.app) and all(k.region.width for k in footer_keys(pilot.app)):  # type: ignore[arg-type]
            return


def footer_text(app: StudioApp) -> str:
    return " ".join(f"{key.key_display} {key.description}".strip() for key in footer_keys(app))


async def test_t_shows_the_timeline_in_place_of_the_inspector_at_80x24() -> None:
    """Hidden at first (no room); t shows the timeline where the inspector was; t again brings it back."""
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        timeline, inspector = screen.query_one("#timeline"), screen.query_one("#inspector")
        assert not timeline.display
        await pilot.press("n")
        client.push(
            event(1, "note_finished", "order/load", order_tree(items=["book"]), status="done", duration=0.002)
        )
        await pilot.pause(0.1)
        await pilot.press("t")
        await pilot.pause()
        assert timeline.display
        assert not inspector.display
        assert timeline.region.height >= 6
        assert timeline.region.bottom <= 23  # above the footer
        rows = [timeline.render_line(y).text for y in range(timeline.scrollable_content_region.height)]
        assert any(row.startswith("load ") for row in rows), rows
        await pilot.press("t")
        await pilot.pause()
        assert not timeline.display
        assert inspector.display


async def test_the_footer_fits_80_columns_without_cutting_a_word() -> None:
    """Every key shown in the footer ends inside the screen; t Timeline and ? Keys are among them."""
    app = app_with(ScriptedClient())
    async with app.run_test(size=(80, 24)) as pilot:
        await footer_drawn(pilot)
        keys = footer_keys(app)
        # the palette key docks on the right, over whatever reaches it
        edge = min([k.region.x for k in keys if k.has_class("-command-palette")], default=80)
        cut = [
            f"{k.key_display} {k.description}"
            for k in keys
            if not k.has_class("-command-palette") and (k.region.right > edge or k.region.width == 0)
        ]
        assert not cut, f"cut or hidden in the footer: {cut}; footer: {footer_text(app)}"
        assert footer_text(app) == "r Run n Next o Over c Continue b Break x Stop t Timeline q Quit ? Keys"


async def test_wide_the_footer_shows_every_key_and_t_hides_the_timeline() -> None:
    """At 160 columns the footer shows every key and the palette; t hides the timeline, t shows it."""
    app = app_with(ScriptedClient())
    async with app.run_test(size=(160, 48)) as pilot:
        await footer_drawn(pilot)
        text = footer_text(app)
        for shown in ("i Input", "E Export", "h History", "t Timeline", "q Quit", "? Keys", "^p palette"):
            assert shown in text
        assert all(key.region.right <= 160 for key in footer_keys(app))
        timeline = app.screen.query_one("#timeline")
        assert timeline.display
        await pilot.press("t")
        await pilot.pause()
        assert not timeline.display
        await pilot.press("t")
        await pilot.pause()
        assert timeline.display


async def test_at_120_columns_no_footer_key_is_cut() -> None:
    """Just wide enough for the side-by-side layout: every key still fits beside the palette."""
    app = app_with(ScriptedClient())
    async with app.run_test(size=(120, 36)) as pilot:
        await footer_drawn(pilot)
        keys = footer_keys(app)
        edge = min(k.region.x for k in keys if k.has_class("-command-palette"))
        cut = [k.description for k in keys if not k.has_class("-command-palette") and k.region.right > edge]
        assert not cut, footer_text(app)
        assert "h History" in footer_text(app)
