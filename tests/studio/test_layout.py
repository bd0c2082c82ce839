"""Graph layout: every measure kind drawn with box-drawing characters, boxes, order, states, big cadences."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rich.cells import cell_len

from cadence import Cadence, Score, circuit_breaker, fallback, note, retry, timeout
from cadence_studio.ui.layout import MAX_LABEL_CELLS, Box, Drawing, layout


@dataclass
class Order(Score):
    total: int = 0


@retry(3)
@timeout(2)
@note
async def validate(order: Order) -> None:
    """Check the order."""


@fallback("guest")
@note
async def fetch_user(order: Order) -> None:
    """Load the user."""


@circuit_breaker(name="carts")
@note
async def fetch_cart(order: Order) -> None:
    """Load the cart."""


@note
def manual_review(order: Order) -> None:
    """A person looks at it."""


@note
def charge(order: Order) -> None:
    """Charge the card."""


@note
def receipt(order: Order) -> None:
    """Number the receipt."""


def is_large(order: Order) -> bool:
    return order.total > 100


def merge(parent: Order, child: Order) -> None:
    parent.total = child.total


def make_note(name: str) -> Any:
    def task(order: Order) -> None:
        pass

    task.__name__ = task.__qualname__ = name
    return note(task)


def payment() -> Cadence[Order]:
    return Cadence("payment", Order()).then("charge", charge).then("receipt", receipt)


def order_cadence() -> Cadence[Order]:
    """then, sync, split (one empty branch) and child: the approval cadence."""
    return (
        Cadence("order", Order())
        .then("validate", validate)
        .sync("gather", [fetch_user, fetch_cart])
        .split("review", is_large, [manual_review])
        .child("pay", payment(), merge)
    )


def every_kind() -> Cadence[Order]:
    """Every measure kind, with lanes of different heights."""
    return (
        Cadence("shop", Order())
        .then("validate", validate)
        .sequence("prepare", [fetch_user, fetch_cart])
        .sync("gather", [fetch_user, fetch_cart, manual_review])
        .split("review", is_large, [manual_review, charge, receipt], [charge])
        .child("pay", payment(), merge)
        .then("done", receipt)
    )


def nodes(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield tree
    for child in tree.get("children") or ():
        yield from nodes(child)


def style_at(drawing: Drawing, x: int, y: int) -> str:
    """The styles of cell ``(x, y)`` (lines of one-cell characters only)."""
    return " ".join(str(s.style) for s in drawing.lines[y].spans if s.start <= x < s.end)


def row(drawing: Drawing, box: Box, dy: int = 1) -> str:
    """The plain text of one row of a box."""
    return drawing.lines[box.y + dy].plain[box.x : box.x + box.width]


def overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def test_every_measure_kind_is_drawn() -> None:
    """A note, sequence, sync, split (with its branches), child and the cadence itself each get a box."""
    drawing = layout(every_kind().describe())
    assert {box.kind for box in drawing.boxes.values()} == {
        "cadence",
        "note",
        "sequence",
        "sync",
        "split",
        "branch",
        "child",
    }
    text = drawing.plain
    for part in ("◉ shop", "∥ gather", "◇ is_large", "▾ pay", "prepare", "true", "false", "┬", "┴", "▼"):
        assert part in text


def test_every_node_has_a_box() -> None:
    """Every node of describe() has a box, and the box carries the node's name."""
    tree = every_kind().describe()
    drawing = layout(tree)
    ids = {node["id"] for node in nodes(tree)}
    assert set(drawing.boxes) == ids
    for node in nodes(tree):
        assert drawing.boxes[node["id"]].label == node["name"]


def test_boxes_do_not_overlap_and_stay_inside() -> None:
    """No two boxes share a cell, and every box lies inside the drawing."""
    drawing = layout(every_kind().describe())
    for a, b in itertools.combinations(drawing.boxes.values(), 2):
        assert not overlaps(a, b), (a, b)
    for box in drawing.boxes.values():
        assert 0 <= box.x
        assert box.x + box.width <= drawing.width
        assert 0 <= box.y
        assert box.y + box.height <= drawing.height


def test_note_boxes_are_rounded_boxes_with_their_name() -> None:
    """A note is ``╭──╮ │ name │ ╰──╯``, and ``node_at`` finds it from any of its cells."""
    drawing = layout(order_cadence().describe())
    box = drawing.boxes["order/validate"]
    assert row(drawing, box, 0).startswith("╭")
    assert row(drawing, box, 0).endswith("╮")
    assert row(drawing, box) == "│ validate ↻3 ◷2s │"
    assert row(drawing, box, 2).startswith("╰")
    assert row(drawing, box, 2).endswith("╯")
    assert (
        drawing.node_at(box.x, box.y) == drawing.node_at(box.x + box.width - 1, box.y + 2) == "order/validate"
    )
    assert drawing.node_at(0, drawing.height - 1) is None


def test_order_is_top_to_bottom_then_left_to_right() -> None:
    """``order`` lists every box by row, lanes of one row left to right."""
    drawing = layout(every_kind().describe())
    assert sorted(drawing.order) == sorted(drawing.boxes)
    positions = [(drawing.boxes[n].y, drawing.boxes[n].x) for n in drawing.order]
    assert positions == sorted(positions)
    lanes = ["shop/gather/fetch_user", "shop/gather/fetch_cart", "shop/gather/manual_review"]
    assert [n for n in drawing.order if n in lanes] == lanes
    assert drawing.order[0] == "shop"
    assert drawing.order[-1] == "shop/done"


def test_lanes_of_different_heights_reach_the_join() -> None:
    """A short lane is continued with │ down to the join line, which has one ┴/╯/╰ per lane."""
    drawing = layout(every_kind().describe())
    short = drawing.boxes["shop/review/false/charge"]
    long_ = drawing.boxes["shop/review/true/receipt"]
    spine = short.x + short.width // 2
    below = [drawing.lines[y].plain[spine] for y in range(short.y + 3, long_.y + 3)]
    assert below == ["│"] * len(below)
    join = drawing.lines[long_.y + 3].plain
    assert join[spine] == "╯"
    assert join[long_.x + long_.width // 2] == "╰"


def test_badges() -> None:
    """Resilience shows as ↻3 (retry), ◷2s (timeout), ↪ (fallback) and ⚡ (circuit breaker)."""
    drawing = layout(order_cadence().describe())
    assert "validate ↻3 ◷2s" in row(drawing, drawing.boxes["order/validate"])
    assert "fetch_user ↪" in row(drawing, drawing.boxes["order/gather/fetch_user"])
    assert "fetch_cart ⚡" in drawing.lines[drawing.boxes["order/gather/fetch_cart"].y + 1].plain


@pytest.mark.parametrize(
    ("status", "duration", "glyph", "style"),
    [
        ("running", None, "▶", "cyan"),
        ("paused", None, "⏸", "yellow"),
        ("done", 0.012, "✓ 12 ms", "green"),
        ("failed", 2.5, "✗ 2.50 s", "red"),
        ("skipped", None, "·", "dim"),
        ("cancelled", None, "⊘", "yellow"),
    ],
)
def test_status_glyph_and_border(status: str, duration: float | None, glyph: str, style: str) -> None:
    """A status shows as a glyph (and duration) in the top border, and colours the border."""
    statuses = {"order/validate": {"status": status, "duration": duration}}
    drawing = layout(order_cadence().describe(), statuses=statuses)
    box = drawing.boxes["order/validate"]
    assert row(drawing, box, 0).startswith(f"╭─ {glyph} ─")
    assert style in style_at(drawing, box.x, box.y)
    assert style in style_at(drawing, box.x, box.y + 1)


def test_pending_is_plain_and_statuses_move_nothing() -> None:
    """Pending notes have no glyph, and a run's statuses neither move nor resize any box."""
    tree = order_cadence().describe()
    plain = layout(tree)
    box = plain.boxes["order/validate"]
    assert row(plain, box, 0) == "╭" + "─" * (box.width - 2) + "╮"
    assert style_at(plain, box.x, box.y) == ""
    for status in ("running", "done", "failed"):
        statuses = {node["id"]: {"status": status, "duration": 0.123} for node in nodes(tree)}
        drawing = layout(tree, statuses=statuses)
        assert drawing.plain != plain.plain
        assert drawing.boxes == plain.boxes
        assert (drawing.width, drawing.height) == (plain.width, plain.height)


def test_measure_status_follows_its_label() -> None:
    """A running sync shows ▶ after its header; a done child ✓ and its duration in its frame's top border."""
    statuses: dict[str, dict[str, Any]] = {
        "order/gather": {"status": "running"},
        "order/pay": {"status": "done", "duration": 1.5},
    }
    drawing = layout(order_cadence().describe(), statuses=statuses)
    assert drawing.lines[drawing.boxes["order/gather"].y].plain.rstrip().endswith("▶")
    title = row(drawing, drawing.boxes["order/pay"], 0)
    assert title.startswith("╭─ ▾ pay  child · payment ─┼─")
    assert title.endswith("─ ✓ 1.50 s ─╮")


def test_collapsed_child_is_one_box() -> None:
    """A collapsed child is one box ``▸ name (N notes)`` and its notes get no boxes."""
    drawing = layout(order_cadence().describe(), collapsed={"order/pay"})
    box = drawing.boxes["order/pay"]
    assert box.height == 3
    assert row(drawing, box) == "│ ▸ pay (2 notes) │"
    assert not any(node.startswith("order/pay/") for node in drawing.boxes)


@pytest.mark.parametrize(
    ("node_id", "text"),
    [
        ("shop/prepare", "▸ prepare (2 notes)"),
        ("shop/gather", "▸ gather (3 notes)"),
        ("shop/review", "▸ review (4 notes)"),
    ],
)
def test_any_measure_collapses(node_id: str, text: str) -> None:
    """A sequence, sync or split collapses to one box too, and the rest of the graph still joins up."""
    drawing = layout(every_kind().describe(), collapsed={node_id})
    box = drawing.boxes[node_id]
    assert text in row(drawing, box)
    assert not any(node.startswith(f"{node_id}/") for node in drawing.boxes)
    assert drawing.lines[box.y + 3].plain[box.x + box.width // 2] in "▼│"


def test_breakpoint_marker() -> None:
    """A breakpoint puts a red ● before the note's name."""
    drawing = layout(order_cadence().describe(), breakpoints={"order/validate"})
    box = drawing.boxes["order/validate"]
    line = row(drawing, box)
    assert line == "│ ● validate ↻3 ◷2s │"
    assert "red" in style_at(drawing, box.x + line.index("●"), box.y + 1)


def test_selected_node_has_a_heavy_border_and_reversed_name() -> None:
    """The selected note is drawn ┏━┓ in bold with its name reversed; nothing else is."""
    drawing = layout(order_cadence().describe(), selected="order/gather/fetch_user")
    box = drawing.boxes["order/gather/fetch_user"]
    assert row(drawing, box, 0) == "┏" + "━" * (box.width - 2) + "┓"
    assert "bold" in style_at(drawing, box.x, box.y)
    assert "reverse" in style_at(drawing, box.x + 2, box.y + 1)
    assert drawing.plain.count("┏") == 1


def test_taken_lane_is_highlighted_and_the_other_dimmed() -> None:
    """With ``taken``, the taken lane's label is highlighted and the other lane dimmed."""
    drawing = layout(every_kind().describe(), taken={"shop/review": "false"})
    false_label, true_label = drawing.boxes["shop/review/false"], drawing.boxes["shop/review/true"]
    assert "green" in style_at(drawing, false_label.x, false_label.y)
    assert "dim" in style_at(drawing, true_label.x, true_label.y)
    skipped = drawing.boxes["shop/review/true/charge"]
    assert "dim" in style_at(drawing, skipped.x, skipped.y)
    kept = drawing.boxes["shop/review/false/charge"]
    assert "dim" not in style_at(drawing, kept.x, kept.y)


def test_empty_branch_shows_skip() -> None:
    """A split branch without notes is a lane reading ``(skip)``."""
    drawing = layout(order_cadence().describe())
    label = drawing.boxes["order/review/false"]
    assert "(skip)" in drawing.lines[label.y + 2].plain


@pytest.mark.parametrize("name", ["注文を確認する", "ship 🚀 now", "café ü", "two\nlines", "日本🎉x"])
def test_wide_and_odd_names_keep_lines_aligned(name: str) -> None:
    """CJK, emoji, accents and control characters never break the grid: every line has the same width."""
    cadence = (
        Cadence(name, Order())
        .then(name, make_note("first"))
        .sync("s", [make_note(f"{name}_a"), make_note("b")])
        .split(name, is_large, [make_note(name)], [make_note("x")])
    )
    drawing = layout(cadence.describe(), selected=f"{name}/{name}", breakpoints={f"{name}/{name}"})
    assert {cell_len(line.plain) for line in drawing.lines} == {drawing.width}
    for a, b in itertools.combinations(drawing.boxes.values(), 2):
        assert not overlaps(a, b)


def test_long_names_are_cut_and_the_box_keeps_the_full_name() -> None:
    """A name wider than MAX_LABEL_CELLS ends with …; Box.label is the whole name."""
    name = "a_really_long_note_name_that_goes_on_and_on_and_on"
    drawing = layout(Cadence("c", Order()).then(name, charge).then("漢" * 40, receipt).describe())
    box = drawing.boxes[f"c/{name}"]
    assert box.label == name
    assert row(drawing, box) == f"│ {name[: MAX_LABEL_CELLS - 1]}… │"
    wide = next(b for b in drawing.boxes.values() if b.label == "漢" * 40)
    assert wide.width <= MAX_LABEL_CELLS + 4


def test_width_centres_a_narrow_drawing_and_never_cuts_a_wide_one() -> None:
    """A drawing narrower than ``width`` is centred in it; a wider one keeps its own width."""
    tree = order_cadence().describe()
    natural = layout(tree)
    centred = layout(tree, width=natural.width + 21)
    assert centred.width == natural.width + 21
    assert {cell_len(line.plain) for line in centred.lines} == {centred.width}
    shift = centred.boxes["order/validate"].x - natural.boxes["order/validate"].x
    assert shift == 10
    assert layout(tree, width=20).plain == natural.plain


def test_approval_small_cadence() -> None:
    """then, sync, split and child read cleanly at 80 columns."""
    drawing = layout(order_cadence().describe())
    assert drawing.width <= 80
    assert {cell_len(line.plain) for line in drawing.lines} == {drawing.width}
    assert "\n".join(line.plain.rstrip() for line in drawing.lines) == EXPECTED_ORDER


EXPECTED_ORDER = """\
                           ◉ order
                           ▼
                  ╭─────────────────╮
                  │ validate ↻3 ◷2s │
                  ╰────────┬────────╯
                           │ ∥ gather  sync · fail_on_conflict
                   ╭───────┴────────╮
                   ▼                ▼
           ╭──────────────╮ ╭───────────────╮
           │ fetch_user ↪ │ │ fetch_cart ⚡ │
           ╰───────┬──────╯ ╰───────┬───────╯
                   ╰───────┬────────╯
                           │ ◇ is_large  review
                     ╭─────┴──────╮
                   true         false
                     ▼            │
             ╭───────────────╮ (skip)
             │ manual_review │    │
             ╰───────┬───────╯    │
                     ╰─────┬──────╯
                           │
╭─ ▾ pay  child · payment ─┼─────────────────────────╮
│                          ▼                         │
│                   ╭────────────╮                   │
│                   │   charge   │                   │
│                   ╰──────┬─────╯                   │
│                          ▼                         │
│                   ╭────────────╮                   │
│                   │  receipt   │                   │
│                   ╰──────┬─────╯                   │
│                          │                         │
╰──────────────────────────┴─────────────────────────╯"""


def test_a_thousand_note_sequence_lays_out() -> None:
    """A sequence of 1,000 notes gives 1,000 boxes, one below the other."""
    tasks = [make_note(f"step_{i:04d}") for i in range(1000)]
    drawing = layout(Cadence("big", Order()).sequence("all", tasks).describe())
    boxes = [drawing.boxes[f"big/all/step_{i:04d}"] for i in range(1000)]
    assert all(a.y + a.height < b.y for a, b in itertools.pairwise(boxes))
    assert len(drawing.lines) == drawing.height


def test_a_hundred_syncs_of_ten_lay_out() -> None:
    """100 `.sync` groups of 10 notes give 1,000 note boxes, ten side by side per group."""
    cadence = Cadence("wide", Order())
    for group in range(100):
        cadence = cadence.sync(f"g{group}", [make_note(f"n{i}") for i in range(10)])
    drawing = layout(cadence.describe())
    assert sum(box.kind == "note" for box in drawing.boxes.values()) == 1000
    assert {drawing.boxes[f"wide/g7/n{i}"].y for i in range(10)} == {drawing.boxes["wide/g7/n0"].y}
    assert {cell_len(line.plain) for line in drawing.lines} == {drawing.width}


def random_looks(tree: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Statuses, a selection and taken lanes as a run would give them (some durations widen a slot)."""
    ids = [node["id"] for node in nodes(tree)]
    statuses = {}
    for node_id in rng.sample(ids, rng.randint(0, len(ids))):
        status = rng.choice(["running", "paused", "done", "failed", "skipped", "cancelled", "pending"])
        duration = rng.choice([None, 0.0021, 1.5, 42.0, 125.0] * 8 + [12 * 60.0])  # 12m00s is wider
        statuses[node_id] = {"status": status} | ({"duration": duration} if duration is not None else {})
    splits = [node["id"] for node in nodes(tree) if node["kind"] == "split"]
    taken = {split: rng.choice(["true", "false", True]) for split in splits if rng.random() < 0.5}
    return {"statuses": statuses, "selected": rng.choice([None, *ids]), "taken": taken}


@pytest.mark.parametrize("seed", range(40))
def test_restyling_in_place_draws_what_a_fresh_layout_draws(seed: int) -> None:
    """With ``previous``, only what changed is painted again, and the drawing is the same as a new one."""
    rng = random.Random(seed)
    cadence = order_cadence() if seed % 2 else every_kind()
    tree = cadence.describe()
    collapsed = {"shop/prepare"} if seed % 4 == 0 else set()
    previous = layout(tree, collapsed=collapsed, width=90)
    for _ in range(12):
        looks = random_looks(tree, rng)
        width = rng.choice([90, 90, 90, 88, 120, 20, None])  # the scrollbar came or went, a resize
        drawing = layout(tree, collapsed=collapsed, width=width, previous=previous, **looks)
        fresh = layout(tree, collapsed=collapsed, width=width, **looks)
        assert drawing.lines == fresh.lines
        assert (drawing.boxes, drawing.order) == (fresh.boxes, fresh.order)
        assert (drawing.width, drawing.height) == (fresh.width, fresh.height)
        previous = drawing


@pytest.mark.parametrize("seed", range(20))
def test_a_new_width_centres_the_same_canvas_again(seed: int) -> None:
    """A scrollbar that comes or goes changes the width only: the drawing is centred anew on the same
    canvas (a 1,000-note cadence is not laid out again at the first step), as a fresh layout draws it."""
    rng = random.Random(seed)
    tree = (order_cadence() if seed % 2 else every_kind()).describe()
    looks = random_looks(tree, rng)
    previous = layout(tree, width=90, **looks)
    for _ in range(8):
        width = rng.choice([None, 20, 60, 88, 90, 92, 140])
        drawing = layout(tree, width=width, previous=previous, **looks)
        assert previous._scene is not None
        assert drawing._scene is not None
        assert drawing._scene.canvas is previous._scene.canvas
        fresh = layout(tree, width=width, **looks)
        assert drawing.lines == fresh.lines
        assert (drawing.boxes, drawing.order) == (fresh.boxes, fresh.order)
        assert (drawing.width, drawing.height) == (fresh.width, fresh.height)
        previous = drawing


def test_restyling_keeps_the_lines_that_did_not_change() -> None:
    """Stepping from one note to the next paints only those notes' rows; every other line is kept."""
    tree = order_cadence().describe()
    before = layout(tree, statuses={"order/validate": {"status": "paused"}}, selected="order/validate")
    after = layout(
        tree,
        statuses={
            "order/validate": {"status": "done", "duration": 0.002},
            "order/gather": {"status": "running"},
        },
        selected="order/gather",
        previous=before,
    )
    changed = {y for y in range(len(after.lines)) if not after.lines.same_row(before.lines, y)}
    validate, gather = after.boxes["order/validate"], after.boxes["order/gather"]
    assert set(range(validate.y, validate.y + 3)) <= changed
    assert gather.y in changed
    assert len(changed) < len(after.lines) // 2
    assert layout(tree, previous=before).lines == layout(tree).lines  # a used-up drawing is laid out again


def test_restyling_lays_out_again_when_the_shape_changes() -> None:
    """New breakpoints, collapsed measures or tree: a whole new layout, as without ``previous``."""
    tree = order_cadence().describe()
    for change in ({"breakpoints": {"order/validate"}}, {"collapsed": {"order/pay"}}):
        previous = layout(tree)
        assert layout(tree, previous=previous, **change).lines == layout(tree, **change).lines  # type: ignore[arg-type]
    other = payment().describe()
    assert layout(other, previous=layout(tree)).lines == layout(other).lines


def test_the_canvas_keeps_one_object_per_distinct_character() -> None:
    """A 10,000-note graph has some 240,000 border cells: each must not be a str object of its own."""
    from cadence_studio.ui.layout_elements import Canvas

    canvas = Canvas(20, 3)
    canvas.put(0, 0, "╭" + "─" * 8 + "╮", "")
    canvas.put(0, 2, "".join(["─"] * 8), "")
    cells = [c for row in canvas.chars for c in row if c == "─"]
    assert len(cells) == 16
    assert len({id(c) for c in cells}) == 1
