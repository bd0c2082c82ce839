"""Encoded scores (the checkpoints' JSON, as a Temporal history carries them) drawn as value trees
without the user's classes, alike the worker's trees of the live values."""

from __future__ import annotations

import dataclasses
import enum
import json

from examples import shop

from cadence import serialize_score, serialize_value
from cadence_studio.protocol.encoded_trees import encoded_tree, score_tree
from cadence_studio.worker.values import value_tree


class Tier(enum.Enum):
    GOLD = "gold"


@dataclasses.dataclass
class Box:
    items: tuple[int, ...] = (1, 2)
    tags: set[str] = dataclasses.field(default_factory=lambda: {"b", "a"})
    by_id: dict[int, str] = dataclasses.field(default_factory=lambda: {3: "c"})
    nested: list[dict[str, object]] = dataclasses.field(default_factory=lambda: [{"k": [1.5, None, True]}])


def test_a_tagged_dataclass_reads_as_the_class_without_importing_it() -> None:
    """{"$t": "dataclass", "cls": "shop:LineItem", ...} reads LineItem(sku='desk-oak', ...), as the
    worker shows the live value."""
    items = shop.cart_items("c-7")
    encoded = json.loads(json.dumps(serialize_value(items)))
    assert encoded[0]["$t"] == "dataclass"
    assert encoded_tree(encoded) == value_tree(items)
    assert encoded_tree(encoded)["r"].startswith("[LineItem(sku='desk-oak', name='Oak standing desk', ")


def test_containers_read_as_the_worker_draws_them() -> None:
    """Tuples, sets, dicts with int keys and nested plain JSON: the same nodes, kinds and reprs."""
    box = Box()
    encoded = json.loads(json.dumps(serialize_value(box)))
    assert encoded_tree(encoded) == value_tree(box)


def test_values_json_cannot_hold_read_by_their_tag() -> None:
    """An enum by its class and value, nan by name: readable, never an import."""
    assert encoded_tree(serialize_value(Tier.GOLD))["r"] == "Tier('gold')"
    assert encoded_tree(serialize_value(float("nan")))["r"] == "nan"
    assert encoded_tree({"$t": "codec", "name": "myapp:Money", "v": "12.00 EUR"})["r"] == "Money('12.00 EUR')"


def test_a_score_keeps_the_field_order_it_is_given() -> None:
    """A score whose JSON came back with sorted keys is shown in the declared order when it is known."""
    score = shop.checkout.get_score()
    encoded = dict(sorted(serialize_score(score).items()))
    fields = [f.name for f in dataclasses.fields(score)]
    tree = score_tree(encoded, "shop:CheckoutScore", order=fields)
    assert tree is not None
    assert tree == value_tree(score)
    unordered = score_tree(encoded, "shop:CheckoutScore")
    assert unordered is not None
    assert [key for key, _ in unordered["c"]] == sorted(fields)
