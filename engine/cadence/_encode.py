"""Encoding for ``cadence.serialize``: one encoder per type, found once and cached by exact type.

Plain JSON values go through untouched and uncopied; containers copy only when an item inside needed
a tag. A value that can't be saved raises :class:`Refused`, which each container on the way out
extends with its segment of the path.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

from . import _tags
from ._restore import Refused
from .score import Atomic, AtomicDict, AtomicList

TAG = _tags.TAG
_RUNNING = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
TRANSIENT_KEY = "cadence.transient"

# ---------------------------------------------------------------------------- codecs


@dataclasses.dataclass(frozen=True, slots=True)
class Codec:
    type: type
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    name: str


codecs: dict[type, Codec] = {}
codecs_by_name: dict[str, Codec] = {}
JSON_TYPES = (str, int, float, bool, type(None), list, dict)


# ---------------------------------------------------------------------------- encoding

Encoder = Callable[[Any], Any]
_SCALARS = frozenset({str, int, bool, type(None)})
#: Encoder by exact type, filled on first sight of a type (cleared when a codec is registered).
encoders: dict[type, Encoder] = {}


def enc(value: Any) -> Any:
    tp = type(value)
    if tp in _SCALARS:
        return value
    return (encoders.get(tp) or _resolve(tp))(value)


def _enc_list(value: list[Any] | tuple[Any, ...]) -> Any:
    """``value`` itself when every item is plain JSON, else a list with the items that need it encoded."""
    # A long list of scalars is checked at C speed (2.4x faster than the loop below on 100k ints); the
    # first item decides whether to try, so a list of dicts doesn't pay for it.
    if len(value) > 16 and type(value[0]) in _SCALARS and set(map(type, value)) <= _SCALARS:
        return value
    changes: list[tuple[int, Any]] | None = None
    for i, item in enumerate(value):
        tp = type(item)
        if tp in _SCALARS:
            continue
        try:
            new = (encoders.get(tp) or _resolve(tp))(item)
        except Refused as refused:
            refused.segments.append(f"[{i}]")
            raise
        if new is not item:
            if changes is None:
                changes = []
            changes.append((i, new))
    if changes is None:
        return value
    out = list(value)
    for i, new in changes:
        out[i] = new
    return out


def _enc_dict(value: dict[Any, Any]) -> Any:
    if TAG in value:
        return _enc_pairs(value)
    changes: dict[str, Any] | None = None
    for key, item in value.items():
        if type(key) is not str:
            return _enc_pairs(value)
        tp = type(item)
        if tp in _SCALARS:
            continue
        try:
            new = (encoders.get(tp) or _resolve(tp))(item)
        except Refused as refused:
            refused.segments.append(f"[{key!r}]")
            raise
        if new is not item:
            if changes is None:
                changes = {}
            changes[key] = new
    if changes is None:
        return value
    out = dict(value)
    out.update(changes)
    return out


def _enc_pairs(value: Mapping[Any, Any]) -> dict[str, Any]:
    # Non-str keys, or a "$t" key that would read as a tag: key/value pairs keep both as they were.
    pairs = []
    for key, item in value.items():
        try:
            pairs.append([enc(key), None])
        except Refused as refused:
            refused.segments.append(f"[{key!r}] (the key)")
            raise
        try:
            pairs[-1][1] = enc(item)
        except Refused as refused:
            refused.segments.append(f"[{key!r}]")
            raise
    return {TAG: "dict", "v": pairs}


def _enc_tuple(value: tuple[Any, ...]) -> dict[str, Any]:
    return {TAG: "tuple", "v": list(_enc_list(value))}


def _enc_set(value: set[Any] | frozenset[Any]) -> dict[str, Any]:
    items = list(value)
    try:  # a stable order, so an unchanged set saves the same text
        items.sort()
    except TypeError:
        pass
    out = []
    for item in items:
        try:
            out.append(enc(item))
        except Refused as refused:
            refused.segments.append(f"{{{short(item)}}}")
            raise
    return {TAG: "set" if type(value) is set else "frozenset", "v": out}


def _enc_atomic(value: Atomic[Any]) -> dict[str, Any]:
    try:
        return {TAG: "atomic", "v": enc(value.get())}
    except Refused as refused:
        refused.segments.append(".get()")
        raise


def _enc_atomic_list(value: AtomicList[Any]) -> dict[str, Any]:
    return {TAG: "atomiclist", "v": list(_enc_list(value.get_all()))}


def _enc_atomic_dict(value: AtomicDict[Any, Any]) -> dict[str, Any]:
    return {TAG: "atomicdict", "v": _enc_dict(value.get_all())}


_BUILTIN: dict[type, Encoder] = {
    float: _tags.enc_float,
    list: _enc_list,
    dict: _enc_dict,
    tuple: _enc_tuple,
    set: _enc_set,
    frozenset: _enc_set,
    bytes: _tags.enc_bytes,
    bytearray: _tags.enc_bytes,
    Atomic: _enc_atomic,
    AtomicList: _enc_atomic_list,
    AtomicDict: _enc_atomic_dict,
}


def _resolve(tp: type) -> Encoder:
    """Find (once per type) how values of ``tp`` are saved."""
    encoder = _build_encoder(tp)
    encoders[tp] = encoder
    return encoder


def _build_encoder(tp: type) -> Encoder:
    codec = next((codecs[base] for base in tp.__mro__ if base in codecs), None)
    if codec is not None:
        return _codec_encoder(codec)
    found = _BUILTIN.get(tp) or _tags.BY_NAME.get((tp.__module__, tp.__qualname__))
    if found is not None:
        return found
    if issubclass(tp, enum.Enum):
        return _class_encoder(tp, _enum_body, "enum")
    if dataclasses.is_dataclass(tp):
        return _class_encoder(tp, _dataclass_body(tp), "dataclass")
    if issubclass(tp, tuple) and hasattr(tp, "_fields"):
        return _class_encoder(tp, _namedtuple_body, "namedtuple")
    return _refuse_unknown


def _codec_encoder(codec: Codec) -> Encoder:
    def encode(value: Any) -> dict[str, Any]:
        try:
            data = codec.encode(value)
        except Exception as exc:
            raise Refused(
                f"the codec {codec.name!r} failed on {short(value)}: {exc!r}",
                "fix that codec's encode function",
                cause=exc,
            ) from exc
        try:
            return {TAG: "codec", "name": codec.name, "v": enc(data)}
        except Refused as refused:
            refused.segments.append(f" (as encoded by the codec {codec.name!r})")
            raise

    return encode


def _class_encoder(tp: type, body: Callable[[Any], Any], tag: str) -> Encoder:
    ref = _class_ref(tp)
    if ref is None:
        where = f"{tp.__module__}.{tp.__qualname__}"

        def refuse(value: Any) -> Any:
            msg = (
                f"{short(value)} is an instance of {where}, which a checkpoint could not find again "
                "by its name (it is not at module level)"
            )
            fix = (
                f"define {tp.__name__} at module level, "
                f"or cadence.register_codec({tp.__name__}, encode, decode)"
            )
            raise Refused(msg, fix)

        return refuse

    def encode(value: Any) -> dict[str, Any]:
        return {TAG: tag, "cls": ref, "v": body(value)}

    return encode


def _enum_body(value: enum.Enum) -> Any:
    try:
        return enc(value.value)
    except Refused as refused:
        refused.segments.append(".value")
        raise


def _namedtuple_body(value: tuple[Any, ...]) -> Any:
    return list(_enc_list(value))


def _dataclass_body(tp: type) -> Callable[[Any], dict[str, Any]]:
    names, unrestorable = saved_fields(tp)

    def body(value: Any) -> dict[str, Any]:
        if unrestorable:
            msg = f"field {unrestorable[0]!r} of {tp.__qualname__} is TRANSIENT but has no default"
            raise Refused(msg, NO_DEFAULT_FIX)
        return enc_fields(value, names, tp.__qualname__)

    return body


NO_DEFAULT_FIX = (
    "give it a default or default_factory, so a restore can rebuild it "
    "(dataclasses.field(default_factory=..., metadata=cadence.TRANSIENT))"
)


def saved_fields(tp: type) -> tuple[list[str], list[str]]:
    """The names of the fields that are saved, and of the TRANSIENT ones a restore could not rebuild."""
    names, unrestorable = [], []
    for f in dataclasses.fields(tp):
        if not f.metadata.get(TRANSIENT_KEY):
            names.append(f.name)
        elif f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            unrestorable.append(f.name)
    return names, unrestorable


def enc_fields(value: Any, names: list[str], owner: str) -> dict[str, Any]:
    out = {}
    for name in names:
        item = getattr(value, name)
        tp = type(item)
        if tp in _SCALARS:
            out[name] = item
            continue
        try:
            out[name] = (encoders.get(tp) or _resolve(tp))(item)
        except Refused as refused:
            refused.segments.append(f".{name}")
            refused.field = refused.field or f"{owner}.{name}"
            raise
    return out


def _refuse_unknown(value: Any) -> Any:
    name = type_name(type(value))
    if isinstance(value, _RUNNING):
        msg = f"{short(value)} (a {name}) is running code, which a checkpoint cannot hold"
        fix = (
            "keep what it produces in the score instead (a list, say), "
            "or mark {field} as dataclasses.field(metadata=cadence.TRANSIENT)"
        )
        raise Refused(msg, fix)
    msg = f"{short(value)} (a {name}) is not JSON and has no codec"
    fix = (
        "mark {field} as dataclasses.field(metadata=cadence.TRANSIENT) to leave it out of checkpoints, "
        f"or cadence.register_codec({name}, encode, decode) to save it"
    )
    raise Refused(msg, fix)


def _class_ref(tp: type) -> str | None:
    """``module:qualname`` when that name leads back to ``tp``, else None."""
    obj: Any = sys.modules.get(tp.__module__)
    for part in tp.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return f"{tp.__module__}:{tp.__qualname__}" if obj is tp else None


def type_name(tp: type) -> str:
    return tp.__qualname__ if tp.__module__ == "builtins" else f"{tp.__module__}.{tp.__qualname__}"


def short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type_name(type(value))} object>"
    return text if len(text) <= 60 else f"{text[:57]}..."
