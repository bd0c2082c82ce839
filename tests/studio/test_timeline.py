"""The timeline: lines are written as they come, the view follows the last one, long runs keep the end."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cadence_studio.ui.widgets.timeline import Timeline


class LogApp(App[None]):
    CSS = "Timeline { height: 6; }"

    def compose(self) -> ComposeResult:
        yield Timeline(id="timeline")


def shown(timeline: Timeline) -> list[str]:
    """The text rows on screen."""
    return [timeline.render_line(y).text.rstrip() for y in range(timeline.scrollable_content_region.height)]


async def test_lines_follow_the_end_and_keep_their_style() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        timeline = app.query_one(Timeline)
        lines = [("green", f"✓ note {i}", f"n{i}") for i in range(10)]
        timeline.sync(lines[:3])
        await pilot.pause()
        assert shown(timeline)[:3] == ["✓ note 0", "✓ note 1", "✓ note 2"]
        timeline.sync(lines)
        await pilot.pause()
        assert shown(timeline) == [f"✓ note {i}" for i in range(4, 10)]  # the last six of ten
        assert timeline.scroll_y == timeline.max_scroll_y == 4
        assert timeline.virtual_size.height == 10
        assert "green" in str(next(iter(timeline.render_line(5))).style)
        assert timeline.shown == 10


async def test_several_lines_in_one_text_and_a_new_run() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.sync([("", "created a.py\ncreated test_a.py", ""), ("", "reloaded", "")])
        await pilot.pause()
        assert shown(timeline)[:3] == ["created a.py", "created test_a.py", "reloaded"]
        timeline.sync([("", "fewer lines: a new run", "")])  # fewer than shown: it starts over
        await pilot.pause()
        assert shown(timeline)[:2] == ["fewer lines: a new run", ""]
        timeline.reset()
        await pilot.pause()
        assert timeline.shown == 0
        assert timeline.virtual_size.height == 0


async def test_a_long_run_keeps_the_last_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        timeline = app.query_one(Timeline)
        lines = [("", f"line {i}", "") for i in range(Timeline.MAX_LINES + 50)]
        timeline.sync(lines[:100])
        timeline.sync(lines)
        await pilot.pause()
        assert timeline.virtual_size.height == Timeline.MAX_LINES
        assert shown(timeline)[-1] == f"line {Timeline.MAX_LINES + 49}"


async def test_a_long_line_is_cut_at_the_view_and_a_short_one_padded() -> None:
    """As in a RichLog: lines are at least MIN_WIDTH cells, and no wider than the view."""
    app = LogApp()
    async with app.run_test(size=(160, 20)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.sync([("", "x" * 300, ""), ("", "short", "")])
        await pilot.pause()
        width = timeline.scrollable_content_region.width
        assert timeline.virtual_size.width == width
        assert shown(timeline)[0] == "x" * width
        assert timeline.render_line(1).cell_length == width
