"""Value trees, their diffs, paths, and score schema / input / JSON (cadence_studio.values)."""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
import pickle
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import Atomic, AtomicDict, AtomicList, ImmutableScore, Score
from cadence._fork import fork
from cadence_studio.protocol.value_trees import diff_trees, join_path, split_path
from cadence_studio.worker.score_input import ScoreInputError, score_schema, score_to_jsonable, validate_score
from cadence_studio.worker.values import expand, value_tree


@dataclass
class Line(Score):
    sku: str = "a"
    qty: int = 1


@dataclass
class Order(Score):
    total: float = 0.0
    lines: list[Line] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    seen: AtomicList[int] = field(default_factory=AtomicList)
    hits: Atomic[int] = field(default_factory=lambda: Atomic(0))
    post_init_runs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.post_init_runs += 1
        if self.total < 0:
            msg = "total must not be negative"
            raise ValueError(msg)


@dataclass(frozen=True)
class Config(ImmutableScore):
    name: str = "svc"
    retries: int = 0


@dataclass
class WithLock(Score):
    n: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Color(enum.IntEnum):
    RED = 1


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self.b = [1, 2]


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class Broken(list[int]):
    def __len__(self) -> int:
        raise RuntimeError("no len")


def child(node: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(node["c"])[key]


def keys(node: dict[str, Any]) -> list[str]:
    return [k for k, _ in node["c"]]


# ---------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("value", "t", "r"),
    [
        (None, "NoneType", "None"),
        (True, "bool", "True"),
        (3, "int", "3"),
        (1.5, "float", "1.5"),
        ("hi", "str", "'hi'"),
        (b"x", "bytes", "b'x'"),
    ],
)
def test_scalars(value: Any, t: str, r: str) -> None:
    """None, bool, int, float, str and bytes are scalars with their repr."""
    assert value_tree(value) == {"t": t, "k": "scalar", "r": r}


def test_long_string_is_cut_at_max_repr() -> None:
    """A string keeps its text up to max_repr characters, then "…"."""
    node = value_tree("x" * 500, max_repr=10)
    assert node["r"] == repr("x" * 10) + "…"
    assert value_tree("y" * 10, max_repr=10)["r"] == repr("y" * 10)


def test_dataclass_children_are_fields() -> None:
    """A dataclass shows its fields by name, in order."""
    node = value_tree(Order(total=2.5, lines=[Line()]))
    assert node["k"] == "dataclass"
    assert node["t"] == "Order"
    assert keys(node) == ["total", "lines", "tags", "seen", "hits", "post_init_runs"]
    assert node["n"] == 6
    assert child(node, "total")["r"] == "2.5"
    assert child(child(child(node, "lines"), "0"), "sku")["r"] == "'a'"
    assert node["r"].startswith("Order(total=2.5, lines=[Line(sku='a', qty=1)]")


def test_fork_view_is_shown_without_copying_fields() -> None:
    """A .sync task's lazy view shows its base's values and copies nothing into the view."""
    base = Order(total=1.0, lines=[Line()])
    view = fork(base)
    view.total = 9.0
    node = value_tree(view)
    assert node["t"] == "Order"
    assert child(node, "total")["r"] == "9.0"
    assert child(child(node, "lines"), "0")["k"] == "dataclass"
    assert set(vars(view)) == {"total"}


def test_mapping_keys() -> None:
    """Mapping keys are kept as text when str, shown by repr otherwise."""
    node = value_tree({"a": 1, 2: "b", (1, 2): None})
    assert node["k"] == "mapping"
    assert keys(node) == ["a", "2", "(1, 2)"]
    assert node["r"] == "{'a': 1, 2: 'b', (1, 2): None}"


@pytest.mark.parametrize("value", [[1, 2], (1, 2), deque([1, 2])])
def test_sequences(value: Any) -> None:
    """Lists, tuples and deques are sequences keyed "0", "1", ..."""
    node = value_tree(value)
    assert node["k"] == "sequence"
    assert keys(node) == ["0", "1"]
    assert node["n"] == 2


def test_set_is_sorted() -> None:
    """A set's items are shown sorted; mixed types fall back to sorting by repr."""
    assert [c["r"] for _, c in value_tree({3, 1, 2})["c"]] == ["1", "2", "3"]
    mixed = value_tree(frozenset({"b", 1}))
    assert mixed["k"] == "set"
    assert [c["r"] for _, c in mixed["c"]] == ["'b'", "1"]


def test_atomics() -> None:
    """Atomic shows its value, AtomicList its items, AtomicDict its keys."""
    one = value_tree(Atomic(5))
    assert (one["k"], keys(one), child(one, "value")["r"]) == ("atomic", ["value"], "5")
    many = value_tree(AtomicList([1, 2]))
    assert (many["k"], keys(many), many["r"]) == ("atomic", ["0", "1"], "AtomicList([1, 2])")
    table = value_tree(AtomicDict({"x": 1}))
    assert (table["k"], keys(table)) == ("atomic", ["x"])


def test_plain_object_shows_its_attributes() -> None:
    """An object with a __dict__ is an "object" with its attributes as children."""
    node = value_tree(Plain())
    assert node["k"] == "object"
    assert keys(node) == ["a", "b"]
    assert node["r"] == "Plain(a=1, b=[1, 2])"


def test_other_values_are_shown_by_repr() -> None:
    """Functions, classes and objects without a __dict__ are "repr" nodes."""
    assert value_tree(len)["k"] == "repr"
    assert value_tree(Plain)["k"] == "repr"
    assert value_tree(1 + 2j) == {"t": "complex", "k": "repr", "r": "(1+2j)"}


def test_raising_repr_is_caught() -> None:
    """A __repr__ that raises gives a placeholder naming the type and the error."""
    node = value_tree([BadRepr()])
    assert child(node, "0") == {
        "t": "BadRepr",
        "k": "repr",
        "r": "<BadRepr object (repr failed: RuntimeError: no repr for you)>",
    }


def test_container_that_raises_while_listing_becomes_repr() -> None:
    """A container whose children cannot be listed is shown by its repr instead."""
    node = value_tree(Broken([1]))
    assert node["k"] == "repr"
    assert node["r"] == "[1]"


def test_object_that_cannot_be_copied_or_pickled() -> None:
    """A score holding a lock is shown without copying it; the lock is a repr node."""
    score = WithLock()
    with pytest.raises(TypeError):
        pickle.dumps(score)
    with pytest.raises(TypeError):
        copy.deepcopy(score)
    lock = child(value_tree(score), "lock")
    assert lock["k"] == "repr"
    assert "lock" in lock["r"]


def test_huge_int_repr_failure_is_caught() -> None:
    """An int too long for repr() gives a placeholder, not an error."""
    node = value_tree(10**5000)
    assert node["k"] == "scalar"
    assert node["r"].startswith("<int object (repr failed: ValueError")


# ---------------------------------------------------------------------------- size limits


def test_big_list_is_truncated() -> None:
    """A 1,000,000-item list shows max_items children and counts the rest in "more"."""
    node = value_tree(list(range(1_000_000)))
    assert len(node["c"]) == 100
    assert node["n"] == 1_000_000
    assert node["more"] == 999_900
    assert node["r"].startswith("[0, 1, 2")
    assert node["r"].endswith("…")
    assert len(node["r"]) == 201


def test_big_dict_is_truncated() -> None:
    """A 100,000-key dict shows max_items children and counts the rest in "more"."""
    node = value_tree({f"k{i}": i for i in range(100_000)}, max_items=10)
    assert len(node["c"]) == 10
    assert node["more"] == 99_990


def test_hundred_thousand_items_with_small_max_items() -> None:
    """max_items bounds the children of each container."""
    node = value_tree([list(range(100_000))], max_items=3)
    inner = child(node, "0")
    assert keys(inner) == ["0", "1", "2"]
    assert inner["more"] == 99_997
    assert "more" not in node


def test_deep_nesting_stops_at_max_depth() -> None:
    """Containers at max_depth are "deep" repr nodes that expand() can open."""
    value: Any = 0
    for _ in range(50):
        value = [value]
    node = value_tree(value, max_depth=3)
    cut = child(child(child(node, "0"), "0"), "0")
    assert cut == {"t": "list", "k": "repr", "r": "[… 1 items]", "deep": True}
    assert expand(value, ["0", "0", "0"], max_depth=1)["k"] == "sequence"


def test_max_nodes_bounds_the_whole_tree() -> None:
    """Past max_nodes, containers are left as "deep" nodes."""
    node = value_tree([[i] for i in range(50)], max_nodes=10)
    kinds = [c["k"] for _, c in node["c"]]
    assert kinds.count("sequence") < 10
    assert kinds[-1] == "repr"


def test_cycles_are_cut() -> None:
    """A container met again on its own path is a "<cycle>" node."""
    loop: list[Any] = [1]
    loop.append(loop)
    node = value_tree(loop)
    assert child(node, "1") == {"t": "list", "k": "repr", "r": "<cycle>"}
    shared = [1]
    twice = value_tree([shared, shared])
    assert child(twice, "1")["k"] == "sequence"  # seen twice, but not a cycle


def test_tree_is_always_json() -> None:
    """json.dumps works on the tree of odd values."""
    loop: dict[str, Any] = {}
    loop["self"] = loop
    odd = [loop, BadRepr(), {(1, 2): {3}}, threading.Lock(), "\ud800", {"\udcff": 1}, float("nan"), Plain]
    for value in [*odd, odd, Order(lines=[Line()])]:
        json.dumps(value_tree(value)).encode("utf-8")
        json.dumps(value_tree(value), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------- expand


def test_expand_follows_keys() -> None:
    """expand() gives the tree of the part at a path of value_tree keys."""
    score = Order(lines=[Line(sku="z")], tags={"a.b": "c"})
    assert expand(score, ["lines", "0", "sku"])["r"] == "'z'"
    assert expand(score, ["tags", "a.b"])["r"] == "'c'"
    assert expand({1: "one"}, ["1"])["r"] == "'one'"
    assert expand(AtomicDict({2: "two"}), ["2"])["r"] == "'two'"
    assert expand({5, 4}, ["0"])["r"] == "4"
    assert expand(Plain(), ["b", "1"])["r"] == "2"
    assert expand(Atomic([7]), ["value", "0"])["r"] == "7"
    assert expand(score, [])["t"] == "Order"


def test_expand_pages_with_offset() -> None:
    """Children start at `offset`, keyed by their real index; "more" counts what follows."""
    node = expand({"xs": list(range(250))}, ["xs"], offset=200, max_items=30)
    assert keys(node)[:2] == ["200", "201"]
    assert len(node["c"]) == 30
    assert node["more"] == 20
    last = expand(list(range(250)), [], offset=240)
    assert keys(last)[-1] == "249"
    assert "more" not in last
    paged = expand({f"k{i}": i for i in range(10)}, [], offset=8)
    assert keys(paged) == ["k8", "k9"]


def test_expand_missing_path_raises_key_error() -> None:
    """A path that leads nowhere raises a KeyError naming the path and why."""
    score = Order(lines=[Line()])
    with pytest.raises(KeyError, match="Order has no field 'nope'"):
        expand(score, ["nope"])
    with pytest.raises(KeyError, match=r"under 'lines', '3' is not an index of the list of 1 items"):
        expand(score, ["lines", "3"])
    with pytest.raises(KeyError, match="has no children"):
        expand(score, ["total", "x"])


def test_expand_through_a_cycle_opens_the_value() -> None:
    """Following a cycle's key opens the container instead of showing "<cycle>"."""
    loop: list[Any] = [1]
    loop.append(loop)
    assert expand(loop, ["1"])["k"] == "sequence"


# ---------------------------------------------------------------------------- paths and diffs


@pytest.mark.parametrize("path", [["a"], ["a.b", "c"], ["x\\", ".", "0"], ["", "a"], ["\\0", "\\."]])
def test_join_and_split_paths_round_trip(path: list[str]) -> None:
    """join_path escapes dots, backslashes and empty keys; split_path reverses it."""
    assert split_path(join_path(path)) == path


def test_join_path_format() -> None:
    """Keys are joined by "." and a dot in a key is written "\\."."""
    assert join_path(["lines", "0", "sku"]) == "lines.0.sku"
    assert join_path(["a.b", "c"]) == "a\\.b.c"
    assert split_path("") == []


def test_diff_first_snapshot_is_empty() -> None:
    """No before tree: no differences."""
    assert diff_trees(None, value_tree(Order())) == {}


def test_diff_same_value_is_empty() -> None:
    """Equal values give no differences."""
    assert diff_trees(value_tree(Order(lines=[Line()])), value_tree(Order(lines=[Line()]))) == {}


def test_diff_changed_nested_field_marks_its_containers() -> None:
    """A changed leaf and every container above it (not the root) are "changed"."""
    before = value_tree(Order(lines=[Line(qty=1)]))
    after = value_tree(Order(lines=[Line(qty=2)]))
    assert diff_trees(before, after) == {"lines.0.qty": "changed", "lines.0": "changed", "lines": "changed"}


def test_diff_list_append_and_pop() -> None:
    """An appended item is "added", a dropped one "removed"."""
    before = value_tree(Order(lines=[Line()]))
    after = value_tree(Order(lines=[Line(), Line(sku="b")]))
    assert diff_trees(before, after) == {"lines.1": "added", "lines": "changed"}
    assert diff_trees(after, before) == {"lines.1": "removed", "lines": "changed"}


def test_diff_dict_keys_added_and_removed() -> None:
    """Dict keys that appear or disappear are "added" / "removed"; dotted keys are escaped."""
    before = value_tree(Order(tags={"a.b": "1", "gone": "x"}))
    after = value_tree(Order(tags={"a.b": "2", "new": "y"}))
    assert diff_trees(before, after) == {
        "tags.a\\.b": "changed",
        "tags.gone": "removed",
        "tags.new": "added",
        "tags": "changed",
    }


def test_diff_atomic_and_type_change() -> None:
    """An Atomic's value change and a field changing type are both "changed"."""
    before = value_tree({"hits": Atomic(1), "x": [1]})
    after = value_tree({"hits": Atomic(2), "x": (1,)})
    assert diff_trees(before, after) == {"hits.value": "changed", "hits": "changed", "x": "changed"}


def test_diff_set_is_compared_whole() -> None:
    """A set that gains an item is "changed" as a whole."""
    assert diff_trees(value_tree({"s": {1, 2}}), value_tree({"s": {0, 1, 2}})) == {"s": "changed"}


def test_diff_ignores_children_left_out_by_truncation() -> None:
    """Children not shown are not compared, but a truncated list that grew is "changed"."""
    before = value_tree({"xs": list(range(200))}, max_items=10)
    changed_tail = list(range(200))
    changed_tail[150] = -1
    assert diff_trees(before, value_tree({"xs": changed_tail}, max_items=10)) == {}
    grown = value_tree({"xs": [*range(200), 7]}, max_items=10)
    assert diff_trees(before, grown) == {"xs": "changed"}
    shrunk = value_tree({"xs": list(range(5))}, max_items=10)
    assert diff_trees(before, shrunk) == {"xs": "changed", **{f"xs.{i}": "removed" for i in range(5, 10)}}


def test_diff_skips_nodes_cut_in_one_tree_only() -> None:
    """A container left "deep" in one tree and open in the other is not compared."""
    before = value_tree({"a": [1], "b": [2]}, max_nodes=2)
    after = value_tree({"a": [1], "b": [2]}, max_nodes=5)
    assert child(before, "b").get("deep")
    assert diff_trees(before, after) == {}


def test_diff_scalar_root() -> None:
    """A root that is not a container on both sides is reported as ""."""
    assert diff_trees(value_tree(1), value_tree(2)) == {"": "changed"}


# ---------------------------------------------------------------------------- schema and input


def test_score_schema() -> None:
    """A dataclass score's JSON schema comes from pydantic; Atomic fields are described by contents."""
    schema = score_schema(Config)
    assert schema is not None
    assert schema["properties"]["retries"]["type"] == "integer"
    order = score_schema(Order)
    assert order is not None
    assert order["properties"]["hits"]["type"] == "integer"
    assert order["properties"]["seen"]["items"] == {"type": "integer"}
    assert order["properties"]["lines"]["items"] == {"$ref": "#/$defs/Line"}
    assert "Line" in order["$defs"]


def test_score_schema_of_arbitrary_classes() -> None:
    """A field of a class pydantic does not know accepts anything; a non-dataclass gives None."""
    schema = score_schema(WithLock)
    assert schema is not None
    assert schema["properties"]["n"]["type"] == "integer"
    assert score_schema(threading.Lock) is None
    assert score_schema(Plain) is None


def test_validate_score_builds_the_dataclass() -> None:
    """Input is converted field by field, and __post_init__ runs."""
    order = validate_score(Order, {"total": "3.5", "lines": [{"sku": "b", "qty": "2"}], "hits": 4})
    assert type(order) is Order
    assert order.total == 3.5
    assert order.lines == [Line(sku="b", qty=2)]
    assert order.hits == Atomic(4)
    assert order.post_init_runs == 1
    assert validate_score(Config, {"retries": 2}) == Config(retries=2)


def test_validate_score_names_the_bad_field() -> None:
    """A wrong type names the field, pydantic's reason and the value given."""
    with pytest.raises(ScoreInputError) as caught:
        validate_score(Order, {"total": "abc", "lines": [{"qty": "x"}]})
    error = caught.value
    assert error.fields == ["total", "lines"]
    assert (
        "field 'total': Input should be a valid number, unable to parse string as a number (got 'abc')"
        in str(error)
    )
    assert "field 'lines.0.qty': Input should be a valid integer" in str(error)
    assert isinstance(error, ValueError)


def test_validate_score_refuses_unknown_fields() -> None:
    """Fields the score does not have are refused by name, listing the real ones."""
    with pytest.raises(ScoreInputError, match="field 'totl': unknown field") as caught:
        validate_score(Order, {"totl": 1})
    assert caught.value.fields == ["totl"]
    assert "'total'" in str(caught.value)


def test_validate_score_post_init_errors_and_bad_atomic_contents() -> None:
    """A __post_init__ ValueError and wrong Atomic contents are input errors too."""
    with pytest.raises(ScoreInputError, match="total must not be negative"):
        validate_score(Order, {"total": -1})
    with pytest.raises(ScoreInputError, match=r"field 'seen\.0': Input should be a valid integer") as caught:
        validate_score(Order, {"seen": ["x"]})
    assert caught.value.fields == ["seen"]


def test_validate_score_refuses_non_objects() -> None:
    """Input that is not a dict is refused with what was given."""
    with pytest.raises(ScoreInputError, match="must be a JSON object of field values, not list"):
        validate_score(Order, [1])


def test_validate_score_allows_arbitrary_field_types() -> None:
    """A score with a lock field is built from the other fields; the lock keeps its default."""
    score = validate_score(WithLock, {"n": "2"})
    assert score.n == 2
    assert isinstance(score.lock, type(threading.Lock()))


# ---------------------------------------------------------------------------- plain JSON


def test_score_to_jsonable_round_trips() -> None:
    """A score becomes plain JSON that validate_score reads back into an equal score."""
    order = Order(total=2.0, lines=[Line()], tags={"a": "b"}, seen=AtomicList([1]), hits=Atomic(3))
    data = score_to_jsonable(order)
    assert data == {
        "total": 2.0,
        "lines": [{"sku": "a", "qty": 1}],
        "tags": {"a": "b"},
        "seen": [1],
        "hits": 3,
        "post_init_runs": 1,
    }
    assert validate_score(Order, json.loads(json.dumps(data))) == order


def test_score_to_jsonable_odd_values() -> None:
    """Sets become sorted lists, other objects reprs, cycles "<cycle>"; json.dumps always works."""
    loop: list[Any] = []
    loop.append(loop)
    data = score_to_jsonable({"s": {3, 1}, "o": BadRepr(), "loop": loop, 1: float("inf"), "b": b"\xff"})
    assert data == {
        "s": [1, 3],
        "o": "<BadRepr object (repr failed: RuntimeError: no repr for you)>",
        "loop": ["<cycle>"],
        "1": "inf",
        "b": "\\xff",
    }
    json.dumps(data, allow_nan=False)


def test_score_to_jsonable_enums_and_views() -> None:
    """Enums give their values; a .sync task's lazy view is read without copying into it."""

    class Kind(str, enum.Enum):  # noqa: UP042 - the old spelling, whose str() is "Kind.FAST"
        FAST = "fast"

    assert score_to_jsonable([Kind.FAST, Color.RED]) == ["fast", 1]
    view = fork(Order(total=4.0))
    assert score_to_jsonable(view)["total"] == 4.0
    assert vars(view) == {}


def test_value_tree_leaves_the_score_alone() -> None:
    """value_tree does not run __post_init__ or change the score."""
    order = Order()
    value_tree(order)
    assert order.post_init_runs == 1
    assert dataclasses.asdict(order)["total"] == 0.0
