"""The score tree: a value of the same shape relabels the rows in place, showing what a new tree shows."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets.tree import TreeNode

from cadence_studio.ui.widgets.score_tree import Row, ScoreTree
from cadence_studio.worker.values import value_tree


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ScoreTree(id="old")
        yield ScoreTree(id="new")


def rows(node: TreeNode[Row]) -> list[Any]:
    """Every row as shown: label, data, opened, children."""
    return [
        (str(node.label), node.label.spans if hasattr(node.label, "spans") else None, node.data),
        node.is_expanded,
        [rows(child) for child in node.children],
    ]


def score(**fields: Any) -> Any:
    base = {"user": "u-1", "items": ["book"], "total": 0, "meta": {"a": 1, "b": [1, 2]}}
    return value_tree(base | fields)


async def check(steps: list[tuple[Any, Any, str]]) -> list[bool]:
    """Show each (value, before, title) on one tree in turn and on a new tree each time; compare.

    Returns, per step, whether the rows were kept (relabelled in place)."""
    kept = []
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one("#old", ScoreTree)
        for value, before, title in steps:
            first = tree.root.children[0] if tree.root.children else None
            tree.show(value, before, title=title, live=True)
            fresh = app.query_one("#new", ScoreTree)
            fresh.clear()
            fresh._shown = None
            fresh.show(value, before, title=title, live=True)
            await pilot.pause()
            assert rows(tree.root) == rows(fresh.root)
            kept.append(first is not None and bool(tree.root.children) and tree.root.children[0] is first)
    return kept


async def test_new_values_of_the_same_shape_relabel_the_rows() -> None:
    one, two, three = (
        score(),
        score(total=12, user="someone else"),
        score(total=13, meta={"a": 2, "b": [3, 4]}),
    )
    kept = await check(
        [(one, None, "score before a"), (two, one, "score after b"), (three, None, "score before c")]
    )
    assert kept == [False, True, True]


async def test_a_new_shape_builds_the_rows_again() -> None:
    one, grown, other = score(), score(items=["book", "pen"]), value_tree({"x": 1})
    kept = await check(
        [(one, None, "a"), (grown, one, "b"), (other, None, "c"), (None, None, "d"), (one, None, "e")]
    )
    assert kept == [False, False, False, False, False]


async def test_relabelling_keeps_rows_in_place_and_measures_a_wider_label() -> None:
    """A value growing wider widens the tree's scrollable width, as a rebuilt tree would."""
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one("#old", ScoreTree)
        tree.show(score(), title="t")
        await pilot.pause()
        narrow = tree.virtual_size.width
        tree.show(score(user="x" * 120), title="t")
        await pilot.pause()
        assert tree.virtual_size.width >= narrow + 100


async def test_a_wider_label_widens_the_scrollbars_without_laying_the_screen_out() -> None:
    """A step whose score label grows (count 9 -> 10) re-measures the rows but asks no layout of the
    screen: the tree's own size is the screen's to set, only its scrollbars follow its rows."""
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one("#old", ScoreTree)
        tree.show(score(user="x" * 120), title="t")  # wider than the view: it has its scrollbar
        await pilot.pause()
        narrow = tree.virtual_size.width
        tree._layout_required = False
        tree.show(score(user="x" * 240), title="t")
        assert tree.virtual_size.width > narrow
        assert not tree._layout_required
        await pilot.pause()
        assert tree.max_scroll_x == tree.virtual_size.width - tree.scrollable_content_region.width
