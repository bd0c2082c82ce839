"""The score's JSON form: what a checkpoint saves and a resume restores.

``serialize_score(score)`` gives ``{field: JSON value}`` for every field of a dataclass score (plain,
frozen, ``ImmutableScore`` or pydantic); ``restore_score(ScoreType, data)`` builds the score again.
``serialize_value`` / ``restore_value`` do the same for one value.

Plain JSON values (str, int, bool, None, finite floats, lists, and dicts with str keys) stay as they are:
they are returned *without copying* when nothing inside needs a tag, so dump the result (``json.dumps``)
before the score changes again. Everything else becomes a tagged dict, ``{"$t": tag, "v": payload}``:

=====================================  =========================================================
``tuple`` / ``set`` / ``frozenset``    ``{"$t": "tuple", "v": [...]}`` (sets sorted when they can be)
``dict`` with a non-str or "$t" key    ``{"$t": "dict", "v": [[key, value], ...]}``
nan, inf, -inf                         ``{"$t": "float", "v": "nan"}``
bytes, bytearray                       base64
Decimal, UUID, Path                    their ``str``
date, datetime, time, timedelta        ISO 8601 (a ZoneInfo also by its key: ``"tz"``)
Enum, Flag, IntEnum...                 ``{"$t": "enum", "cls": "module:Qualname", "v": value}``
dataclass, NamedTuple                  ``{"$t": "dataclass", "cls": ..., "v": {field: ...}}``
Atomic, AtomicList, AtomicDict         their contents: ``{"$t": "atomic", "v": ...}``
a type with a registered codec         ``{"$t": "codec", "name": ..., "v": encode(value)}``
=====================================  =========================================================

Classes are found again by ``module:qualname`` (imported on restore), so an enum or dataclass inside
a score must be defined at module level, or have a codec. A field marked
``dataclasses.field(metadata=cadence.TRANSIENT)`` is never saved and is restored from its default.
A value nothing above covers is refused with :class:`SerializationError`, naming its path
(``score.items[3].price``) and the fix.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import _encode, _tags
from ._restore import Refused, Restorer
from .exceptions import CadenceError, DefinitionError

# Plain sorted order (tests/engine/test_exports.py), not ruff's constants-first one.
__all__ = [  # noqa: RUF022
    "SerializationError",
    "TRANSIENT",
    "register_codec",
    "restore_score",
    "restore_value",
    "serialize_score",
    "serialize_value",
    "unknown_fields",
]

T = TypeVar("T")

#: ``dataclasses.field(metadata=cadence.TRANSIENT)``: the field is left out of checkpoints and
#: restored from its default (or ``default_factory``). Merge it with other metadata: ``{**TRANSIENT, ...}``.
TRANSIENT: Mapping[str, Any] = types.MappingProxyType({_encode.TRANSIENT_KEY: True})


class SerializationError(CadenceError):
    """A value could not be saved or restored; ``path`` says where it is (``score.items[3].price``)."""

    default_code = "SERIALIZE"

    def __init__(
        self,
        message: str,
        *,
        path: str,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__(message, code=code, details=details)
        self.path = path


def register_codec(
    type_: type,
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
    *,
    name: str | None = None,
) -> None:
    """Save values of ``type_`` (and its subclasses) as ``encode(value)``, restored as ``decode(data)``.

    ``encode`` may return anything this module can serialise; ``decode`` gets it back restored.
    ``name`` (default ``module:qualname`` of the type) is what checkpoints store, so keep it stable
    and register the codec before restoring. Registering a type again replaces its codec.
    """
    if not isinstance(type_, type):
        msg = (
            f"register_codec needs a class, got {type_!r}; pass the type of the values, e.g. "
            "type(threading.Lock()) rather than threading.Lock"
        )
        raise DefinitionError(msg)
    if type_ in _encode.JSON_TYPES:
        msg = f"{type_.__name__!r} is already JSON, so a codec for it would never be used; drop it"
        raise DefinitionError(msg)
    key = name or f"{type_.__module__}:{type_.__qualname__}"
    taken = _encode.codecs_by_name.get(key)
    if taken is not None and taken.type is not type_:
        owner = _encode.type_name(taken.type)
        msg = f"a codec named {key!r} is already registered for {owner}; pass another name="
        raise DefinitionError(msg)
    old = _encode.codecs.pop(type_, None)
    if old is not None:
        _encode.codecs_by_name.pop(old.name, None)
    codec = _encode.Codec(type_, encode, decode, key)
    _encode.codecs[type_] = codec
    _encode.codecs_by_name[key] = codec
    _encode.encoders.clear()  # a subclass's cached encoder may now be this codec


# ---------------------------------------------------------------------------- public API


def _error(refused: Refused, root: str, action: str = "serialise") -> SerializationError:
    path = root + "".join(reversed(refused.segments))
    if refused.field:
        field = f"the field {refused.field}"
    else:  # serialize_value(score.x, path="score.x") is one field's value: name that field
        field = f"the field {root}" if root.count(".") == 1 else "the score field that holds it"
    fix = refused.fix.replace("{field}", field)
    return SerializationError(f"cannot {action} {path}: {refused.reason}; {fix}", path=path)


def _too_deep(root: str, action: str) -> SerializationError:
    msg = (
        f"cannot {action} {root}: it is nested deeper than Python's recursion limit, or holds itself "
        "(a reference cycle); keep checkpointed values acyclic, or mark the field TRANSIENT"
    )
    return SerializationError(msg, path=root)


def serialize_value(value: Any, *, path: str = "score") -> Any:
    """``value`` in a form ``json.dumps`` takes as it is (plain JSON values come back uncopied).

    Raises:
        SerializationError: a value inside cannot be saved; the message names its path (``path``
            is the root's name) and the fix.
    """
    try:
        return _encode.enc(value)
    except Refused as refused:
        raise _error(refused, path) from refused.cause
    except RecursionError:
        raise _too_deep(path, "serialise") from None


def serialize_score(score: Any) -> dict[str, Any]:
    """``{field name: serialize_value(value)}`` for every field of the dataclass ``score`` not TRANSIENT."""
    tp = type(score)
    if not dataclasses.is_dataclass(tp):
        msg = (
            f"cannot serialise {_encode.short(score)}: a score to checkpoint must be a dataclass; "
            f"decorate {tp.__name__} with @dataclass"
        )
        raise SerializationError(msg, path="score")
    names, unrestorable = _encode.saved_fields(tp)
    if unrestorable:
        path = f"score.{unrestorable[0]}"
        msg = f"cannot serialise {path}: the field is TRANSIENT but has no default; {_encode.NO_DEFAULT_FIX}"
        raise SerializationError(msg, path=path)
    try:
        return _encode.enc_fields(score, names, tp.__qualname__)
    except Refused as refused:
        raise _error(refused, "score") from refused.cause
    except RecursionError:
        raise _too_deep("score", "serialise") from None


_restorer = Restorer(_tags.DECODERS, _encode.codecs_by_name, _encode.TRANSIENT_KEY)


def restore_value(data: Any, *, path: str = "score") -> Any:
    """The value :func:`serialize_value` saved as ``data`` (new containers, never ``data``'s own)."""
    try:
        return _restorer.value(data)
    except Refused as refused:
        raise _error(refused, path, "restore") from refused.cause
    except RecursionError:
        raise _too_deep(path, "restore") from None


def unknown_fields(score_type: type, data: Mapping[str, Any]) -> list[str]:
    """The keys of ``data`` that are not fields of ``score_type`` (fields removed since it was saved)."""
    names = {f.name for f in dataclasses.fields(score_type)}
    return [key for key in data if key not in names]


def restore_score(score_type: type[T], data: Mapping[str, Any], *, strict: bool = False) -> T:
    """Build a ``score_type`` from :func:`serialize_score`'s ``data``.

    TRANSIENT fields, and fields missing from ``data`` (added since it was saved), take their default.
    Keys of ``data`` that are no longer fields are ignored, as a resume of an old checkpoint needs
    (:func:`unknown_fields` lists them); ``strict=True`` refuses them instead.
    """
    if not dataclasses.is_dataclass(score_type) or not isinstance(score_type, type):
        msg = f"cannot restore a score as {score_type!r}: it must be a dataclass type"
        raise SerializationError(msg, path="score")
    if strict and (extra := unknown_fields(score_type, data)):
        msg = (
            f"cannot restore score: the checkpoint has {', '.join(map(repr, extra))}, which "
            f"{score_type.__qualname__} no longer has as field(s); add them back, "
            "or restore with strict=False to drop them"
        )
        raise SerializationError(msg, path=f"score.{extra[0]}")
    try:
        built: T = _restorer.fields(score_type, data)
    except Refused as refused:
        raise _error(refused, "score", "restore") from refused.cause
    except RecursionError:
        raise _too_deep("score", "restore") from None
    return built
