"""What serialisation refuses, and how it says so: the path of the value (``score.items[3].price``), its
type, and the fix (a TRANSIENT opt-out or a codec); and how restoring treats fields added or removed since."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import cadence
from cadence import (
    TRANSIENT,
    DefinitionError,
    Score,
    SerializationError,
    restore_score,
    restore_value,
    serialize_score,
    serialize_value,
    unknown_fields,
)


class Opaque:
    """A class nothing knows how to save."""


@dataclasses.dataclass
class Line:
    sku: str
    price: Any


@dataclasses.dataclass
class Shop(Score):
    items: list[Line] = dataclasses.field(default_factory=list)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    lock: Any = None
    thing: Any = None


def refusal(value: Any, *, path: str = "score") -> SerializationError:
    """The error saving ``value`` raises: a whole score with serialize_score, else serialize_value."""
    whole = path == "score" and dataclasses.is_dataclass(value)
    with pytest.raises(SerializationError) as info:
        serialize_score(value) if whole else serialize_value(value, path=path)
    assert info.value.code == "SERIALIZE"
    return info.value


def test_a_lock_field_is_refused_naming_the_field_its_type_and_both_fixes() -> None:
    """The house-style message: what failed, the type, the path, then the TRANSIENT opt-out and the codec."""
    err = refusal(Shop(lock=threading.Lock()))
    assert err.path == "score.lock"
    assert re.fullmatch(
        r"\[SERIALIZE\] cannot serialise score\.lock: <unlocked _thread\.lock object at 0x[0-9a-f]+> "
        r"\(a _thread\.lock\) is not JSON and has no codec; mark the field Shop\.lock as "
        r"dataclasses\.field\(metadata=cadence\.TRANSIENT\) to leave it out of checkpoints, "
        r"or cadence\.register_codec\(_thread\.lock, encode, decode\) to save it",
        str(err),
    ), str(err)


def test_a_generator_nested_in_a_list_in_a_dict_is_named_by_its_path() -> None:
    """score.meta['k'][2]: the path goes through dict keys and list indexes."""

    def gen() -> Iterator[int]:
        yield 1

    err = refusal(Shop(meta={"ok": 1, "k": [1, 2, gen()]}))
    assert err.path == "score.meta['k'][2]"
    assert str(err).startswith("[SERIALIZE] cannot serialise score.meta['k'][2]: <generator object")
    assert "(a generator) is running code, which a checkpoint cannot hold" in str(err)
    assert "mark the field Shop.meta as dataclasses.field(metadata=cadence.TRANSIENT)" in str(err)


def test_an_object_of_an_unknown_class_says_what_to_do() -> None:
    """An instance of a plain class: its qualified type, and register_codec spelled with that type."""
    err = refusal(Shop(thing=Opaque()))
    assert err.path == "score.thing"
    name = f"{__name__}.Opaque"
    assert f"(a {name}) is not JSON and has no codec" in str(err)
    assert f"cadence.register_codec({name}, encode, decode)" in str(err)


def test_the_path_goes_through_list_items_and_nested_dataclass_fields() -> None:
    """score.items[3].price, and the fix names the innermost dataclass field (Line.price)."""
    items = [Line(str(i), Decimal(i)) for i in range(3)] + [Line("bad", object())]
    err = refusal(Shop(items=items))
    assert err.path == "score.items[3].price"
    assert "mark the field Line.price as" in str(err)


def test_serialize_value_names_the_field_it_is_given() -> None:
    """serialize_value(value, path=...) (what a checkpoint calls per changed field) uses that path."""
    err = refusal({"a": (1, {2, Opaque()})}, path="score.meta")
    assert err.path.startswith("score.meta['a'][1]{")
    assert "mark the field score.meta as" in str(err)


def test_sets_tuples_atomics_and_dict_keys_are_in_the_path() -> None:
    """Each container kind adds its own step to the path."""
    assert refusal(cadence.Atomic(Opaque()), path="score.n").path == "score.n.get()"
    assert refusal(cadence.AtomicList([1, Opaque()]), path="score.n").path == "score.n[1]"
    assert refusal(cadence.AtomicDict({"k": Opaque()}), path="score.n").path == "score.n['k']"
    assert refusal((0, Opaque()), path="score.n").path == "score.n[1]"
    key = Opaque()
    assert refusal({key: 1}, path="score.n").path == f"score.n[{key!r}] (the key)"


@dataclasses.dataclass
class NoDefault(Score):
    kept: int = 0
    lock: Any = dataclasses.field(default=None, metadata=TRANSIENT)
    handle: Any = dataclasses.field(kw_only=True, metadata=TRANSIENT)


def test_a_transient_field_without_a_default_is_refused_when_saved() -> None:
    """A restore could not rebuild it, so the save says so (rather than the resume failing later)."""
    err = refusal(NoDefault(handle=object()))
    assert err.path == "score.handle"
    assert "TRANSIENT but has no default" in str(err)
    assert "default_factory" in str(err)


def test_a_dataclass_defined_in_a_function_is_refused() -> None:
    """A restore finds classes by module:qualname, which a class inside a function doesn't have."""

    @dataclasses.dataclass
    class Local:
        x: int = 0

    err = refusal(Shop(thing=Local()))
    assert err.path == "score.thing"
    assert "could not find again by its name" in str(err)
    assert "define Local at module level, or cadence.register_codec(Local, encode, decode)" in str(err)


def test_a_reference_cycle_is_refused_not_a_crash() -> None:
    """A list that holds itself: a SerializationError saying so, not a RecursionError."""
    loop: list[Any] = [1]
    loop.append(loop)
    err = refusal(Shop(meta={"loop": loop}))
    assert "reference cycle" in str(err)


def test_register_codec_refuses_a_factory_function_and_json_types() -> None:
    """threading.Lock is a function: the error says to pass the type of its values."""
    with pytest.raises(DefinitionError, match=r"type\(threading.Lock\(\)\) rather than threading.Lock"):
        cadence.register_codec(threading.Lock, repr, repr)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="already JSON"):
        cadence.register_codec(list, repr, repr)


def test_a_codec_that_fails_is_named_with_the_path() -> None:
    """A codec's own exception becomes a SerializationError naming the codec and the path."""

    class Fragile:
        pass

    def broken(value: Any) -> Any:
        raise RuntimeError("nope")

    cadence.register_codec(Fragile, broken, lambda data: Fragile(), name="test.fragile")
    err = refusal({"x": Fragile()}, path="score.meta")
    assert err.path == "score.meta['x']"
    assert "the codec 'test.fragile' failed" in str(err)
    assert isinstance(err.__cause__, RuntimeError)


# ---------------------------------------------------------------------------- restoring


@dataclasses.dataclass
class Evolved(Score):
    name: str = ""
    added: list[int] = dataclasses.field(default_factory=lambda: [7])


def test_restore_ignores_fields_removed_since_the_checkpoint_and_lists_them() -> None:
    """An old checkpoint with a field the class no longer has: a resume goes on (the field is dropped);
    unknown_fields tells the caller which were dropped; strict=True refuses instead, naming them."""
    old = {"name": "Ada", "removed": 3}
    assert restore_score(Evolved, old) == Evolved(name="Ada", added=[7])
    assert unknown_fields(Evolved, old) == ["removed"]
    with pytest.raises(SerializationError, match=r"'removed'.*no longer has.*strict=False") as info:
        restore_score(Evolved, old, strict=True)
    assert info.value.path == "score.removed"


@dataclasses.dataclass
class Required(Score):
    must: int


def test_restore_refuses_a_missing_field_without_default() -> None:
    """A field added since the checkpoint with no default can't be filled in: named, with the fix."""
    with pytest.raises(
        SerializationError, match=r"no value for Required\.must.*give the field a default"
    ) as info:
        restore_score(Required, {})
    assert info.value.path == "score.must"


def test_restore_refuses_damaged_or_unknown_data_naming_the_path() -> None:
    """Unknown tags, classes that moved, and unregistered codecs are named where they are."""
    with pytest.raises(SerializationError, match=r"score\.meta\['k'\]: 'zzz' is not a tag"):
        restore_score(Shop, {"meta": {"k": {"$t": "zzz", "v": 1}}})
    moved = {"$t": "dataclass", "cls": f"{__name__}:Gone", "v": {}}
    with pytest.raises(SerializationError, match=r"score\.items\[0\]: the class .*Gone.* cannot be found"):
        restore_score(Shop, {"items": [moved]})
    with pytest.raises(
        SerializationError, match=r"codec 'nobody', which is not registered; call cadence\.register_codec"
    ):
        restore_value({"$t": "codec", "name": "nobody", "v": 1})
    with pytest.raises(SerializationError, match="damaged"):
        restore_value({"$t": "timedelta", "v": "not a list"})


def test_everything_saved_is_plain_json() -> None:
    """What serialize_score returns dumps with the strictest json settings."""
    data = serialize_score(Shop(items=[Line("a", Decimal("1.5"))], meta={"n": float("inf")}))
    assert json.loads(json.dumps(data, allow_nan=False)) == data
