"""Score input from JSON: the score type's JSON schema, validation with pydantic, and plain JSON out.

Exceptions: ``ValueError`` ← :class:`ScoreInputError` (score input that does not validate).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import json
import math
import types
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any, get_args, get_origin, get_type_hints

import pydantic
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from cadence import Atomic, AtomicDict, AtomicList

from .score_copy import fresh_score
from .values import _ATOMICS, _clean, _describe_error, _kind, _ordered, _read_field, _safe_repr, _Unreadable

__all__ = [
    "ScoreInputError",
    "input_json",
    "kept_fields",
    "refuse_kept",
    "score_from_input",
    "score_schema",
    "score_to_jsonable",
    "validate_score",
]


class ScoreInputError(ValueError):
    """Score input that does not validate; ``fields`` names the top-level fields at fault."""

    def __init__(
        self, message: str, fields: list[str] | None = None, problems: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.fields: list[str] = fields or []
        self.problems: list[str] = problems or [message]
        #: (top-level field or "", its problem) for each problem, in order
        self.items: list[tuple[str, str]] = [("", text) for text in self.problems]


# ---------------------------------------------------------------------------- score schema and input


class _LenientSchema(GenerateJsonSchema):
    """Fields of classes pydantic cannot describe (locks, clients...) accept any value in the schema."""

    def handle_invalid_for_json_schema(
        self, schema: core_schema.CoreSchema | core_schema.DataclassField, error_info: str
    ) -> JsonSchemaValue:
        return {}


@functools.lru_cache(maxsize=64)
def _wrapper_model(score_type: type) -> type[pydantic.BaseModel]:
    """A model holding the score: the way to let its fields be arbitrary classes.

    ``TypeAdapter(score_type, config=...)`` is refused for dataclasses, but a stdlib dataclass inside a
    model follows the model's config.
    """
    config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{score_type.__name__}Input", __config__=config, root=(score_type, ...)
    )
    return model


@functools.lru_cache(maxsize=64)
def _adapter(tp: Any) -> pydantic.TypeAdapter[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydantic.TypeAdapter(tp)


def _atomic_fields(score_type: type) -> dict[str, tuple[type, Any]]:
    """The init fields typed ``Atomic[T]``, ``AtomicList[T]``, ``AtomicDict[K, V]``: their class and the
    type of their contents, which JSON input gives bare."""
    if not dataclasses.is_dataclass(score_type):
        return {}
    try:
        hints = get_type_hints(score_type)
    except Exception:
        return {}
    found: dict[str, tuple[type, Any]] = {}
    for f in dataclasses.fields(score_type):
        hint = hints.get(f.name)
        origin, args = get_origin(hint) or hint, get_args(hint)
        if not f.init or origin not in _ATOMICS:
            continue
        if origin is Atomic:
            found[f.name] = (Atomic, args[0] if args else Any)
        elif origin is AtomicList:
            found[f.name] = (AtomicList, types.GenericAlias(list, args or (Any,)))
        else:
            found[f.name] = (AtomicDict, types.GenericAlias(dict, args if len(args) == 2 else (Any, Any)))
    return found


def _wrapped_schema(score_type: type) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = _wrapper_model(score_type).model_json_schema(schema_generator=_LenientSchema)
    defs: dict[str, Any] = full.get("$defs", {})
    root: dict[str, Any] = full["properties"]["root"]
    ref = root.get("$ref")
    if not isinstance(ref, str):
        return root
    name = ref.rsplit("/", 1)[-1]
    schema = dict(defs.pop(name))
    if ref in json.dumps([schema, defs]):  # a score that holds scores of its own type
        defs[name] = dict(schema)
    for field_name, (_, contents) in _atomic_fields(score_type).items():
        properties = schema.get("properties", {})
        if field_name not in properties:
            continue
        try:
            part = _adapter(contents).json_schema()
        except Exception:
            continue
        defs.update(part.pop("$defs", {}))
        properties[field_name] = {**properties[field_name], **part}
    if defs:
        schema["$defs"] = defs
    return schema


def score_schema(score_type: type) -> dict[str, Any] | None:
    """The JSON schema of a dataclass score type, or None when pydantic cannot make one.

    Fields of classes pydantic does not know (an ``Atomic``, a lock) do not spoil the rest: an
    ``Atomic[int]`` is described as an int, other such fields as any value.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema: dict[str, Any] = _adapter(score_type).json_schema()
        return schema
    except Exception:
        pass
    if not dataclasses.is_dataclass(score_type):
        return None
    try:
        return _wrapped_schema(score_type)
    except Exception:
        return None


@functools.lru_cache(maxsize=64)
def _validator(score_type: type) -> tuple[Callable[[Any], Any], int]:
    """A function validating input into ``score_type`` and how many leading items of its errors' locations
    to drop (1 when the score sits in :func:`_wrapper_model`)."""
    try:
        return _adapter(score_type).validate_python, 0
    except pydantic.PydanticSchemaGenerationError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _wrapper_model(score_type)

    def validate(data: Any) -> Any:
        return model.model_validate({"root": data}).__dict__["root"]

    return validate, 1


def _problems(
    exc: pydantic.ValidationError, prefix: tuple[str, ...] = (), skip: int = 0
) -> list[tuple[str, str]]:
    """(top-level field, message) for each error pydantic found."""
    found: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        loc = prefix + tuple(str(part) for part in error["loc"][skip:])
        text = f"field {'.'.join(loc)!r}: {error['msg']}" if loc else error["msg"]
        if loc and error["type"] != "missing":
            text += f" (got {_safe_repr(error.get('input'), 80)})"
        found.append((loc[0] if loc else "", text))
    return found


def validate_score(score_type: type, data: Any) -> Any:
    """An instance of the dataclass ``score_type`` built from JSON-like ``data`` (a dict), validated.

    Values are converted the way pydantic does (``"3"`` for an int field is 3); ``__post_init__`` runs.
    Fields typed ``Atomic[T]`` / ``AtomicList[T]`` / ``AtomicDict[K, V]`` take their contents, as
    :func:`score_to_jsonable` writes them. Fields with ``init=False`` are computed, so input for them
    is ignored.

    Raises:
        ScoreInputError: ``data`` is not a dict, names unknown fields, or has values of the wrong type.
    """
    type_name = getattr(score_type, "__name__", repr(score_type))
    if not isinstance(data, Mapping):
        msg = (
            f"{type_name} input must be a JSON object of field values, "
            f"not {type(data).__name__} {_safe_repr(data, 80)}"
        )
        raise ScoreInputError(msg, [], [msg])
    data = dict(data)
    problems: list[tuple[str, str]] = []
    skipped: set[str] = set()
    if dataclasses.is_dataclass(score_type):
        fields = dataclasses.fields(score_type)
        known = [f.name for f in fields if f.init]
        for key in list(data):
            if key in known:
                continue
            if key not in {f.name for f in fields}:
                listing = ", ".join(map(repr, known)) or "none"
                problems.append((str(key), f"field {key!r}: unknown field (the fields are {listing})"))
            del data[key]
        for name, (cls, contents) in _atomic_fields(score_type).items():
            if name not in data or isinstance(data[name], cls):
                continue
            try:
                data[name] = cls(_adapter(contents).validate_python(data[name]))
            except pydantic.ValidationError as exc:
                problems += _problems(exc, (name,))
                skipped.add(name)
            except Exception as exc:
                problems.append((name, f"field {name!r}: {_describe_error(exc)}"))
                skipped.add(name)
    result: Any = None
    try:
        validate, skip = _validator(score_type)
        result = validate(data)
    except pydantic.ValidationError as exc:
        problems += [p for p in _problems(exc, skip=skip) if p[0] not in skipped]
    except Exception as exc:  # __post_init__ raising something pydantic does not wrap, or a bad type
        problems.append(("", f"building {type_name} raised {_describe_error(exc)}"))
    if problems:
        fields_at_fault = list(dict.fromkeys(field for field, _ in problems if field))
        texts = [text for _, text in problems]
        msg = f"{type_name} input is invalid: {'; '.join(texts)}"
        error = ScoreInputError(msg, fields_at_fault, texts)
        error.items = problems
        raise error
    return result


# ---------------------------------------------------------------------------- plain JSON


def _jsonable(value: Any, depth: int, max_depth: int, ancestors: set[int], lost: list[Any]) -> Any:
    """``value`` as JSON data; what only its repr can stand for is appended to ``lost``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):  # str.__str__: a (str, Enum) member's text, not "Kind.member"
        return _clean(str.__str__(value))
    if isinstance(value, int):  # json cannot write ints of more than 4300 digits
        return int(value) if value.bit_length() < 14_000 else _safe_repr(value, 1000)
    if isinstance(value, float):  # pydantic reads "nan" and "inf" back
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, depth + 1, max_depth, ancestors, lost)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    kind = _kind(value)
    if kind in ("scalar", "repr", "object") or isinstance(value, _Unreadable):
        if kind != "scalar":
            lost.append(value)
        return _safe_repr(value, 1000)
    if id(value) in ancestors or depth >= max_depth:
        lost.append(value)
        return "<cycle>" if id(value) in ancestors else _safe_repr(value, 1000)
    ancestors.add(id(value))
    try:

        def convert(item: Any) -> Any:
            return _jsonable(item, depth + 1, max_depth, ancestors, lost)

        if isinstance(value, Atomic):
            return convert(value.get())
        if isinstance(value, AtomicList | AtomicDict):
            return convert(value.get_all())
        if kind == "dataclass":
            return {f.name: convert(_read_field(value, f.name)) for f in dataclasses.fields(value)}
        if kind == "mapping":
            return {
                _clean(k) if isinstance(k, str) else _safe_repr(k, 1000): convert(v) for k, v in value.items()
            }
        return [convert(item) for item in (_ordered(value) if kind == "set" else value)]
    finally:
        ancestors.discard(id(value))


def score_to_jsonable(value: Any, *, max_depth: int = 100) -> Any:
    """A score as plain JSON data (what :func:`validate_score` reads back); never raises.

    Dataclasses become dicts of their fields, ``Atomic`` containers their contents, sets sorted lists,
    enums their values, dates ISO strings, anything else (and anything deeper than ``max_depth``) its repr.
    """
    try:
        return _jsonable(value, 0, max_depth, set(), [])
    except Exception:
        return _safe_repr(value, 1000)


def _json_form(value: Any) -> tuple[Any, bool]:
    """``value`` as JSON data, and whether that data says all of it (no part only shown by its repr)."""
    lost: list[Any] = []
    try:
        return _jsonable(value, 0, 100, set(), lost), not lost
    except Exception:
        return None, False


def kept_fields(score: Any) -> dict[str, str]:
    """The init fields of a dataclass score that JSON cannot give (a lock, a generator, a client...),
    each with its value's type: score input leaves them to the cadence's own score."""
    if not dataclasses.is_dataclass(score) or isinstance(score, type):
        return {}
    kept: dict[str, str] = {}
    for f in dataclasses.fields(score):
        if f.init:
            value = _read_field(score, f.name)
            if not _json_form(value)[1]:
                kind = type(value)
                module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
                kept[f.name] = f"{module}{kind.__qualname__}"
    return kept


def input_json(score: Any) -> Any:
    """The score as input to edit: :func:`score_to_jsonable` without the :func:`kept_fields`."""
    data = score_to_jsonable(score)
    kept = kept_fields(score)
    if isinstance(data, dict) and kept:
        return {key: value for key, value in data.items() if key not in kept}
    return data


def refuse_kept(score: Any, data: Mapping[str, Any]) -> None:
    """Refuse input for fields JSON cannot give, naming each and the fix.

    Raises:
        ScoreInputError: ``data`` sets one of the score's :func:`kept_fields`.
    """
    kept = kept_fields(score)
    given = [name for name in data if name in kept]
    if not given:
        return
    texts = [
        f"field {name!r}: score.{name} holds a {kept[name]}, which JSON cannot give; leave {name!r} out of "
        "the input and the run uses the cadence's own"
        for name in given
    ]
    msg = f"{type(score).__name__} input is invalid: {'; '.join(texts)}"
    error = ScoreInputError(msg, given, texts)
    error.items = list(zip(given, texts, strict=True))
    raise error


def score_from_input(base: Any, data: Mapping[str, Any]) -> Any:
    """A new score of ``base``'s type from JSON input ``data``, validated; the fields JSON cannot give
    (:func:`kept_fields`) come from a fresh copy of ``base``, as they are.

    Raises:
        ScoreInputError: ``data`` sets a kept field, or does not validate (see :func:`validate_score`).
    """
    refuse_kept(base, data)
    fresh, _ = fresh_score(base)
    kept = {name: getattr(fresh, name) for name in kept_fields(base)}  # JSON cannot give these
    score = validate_score(type(base), {**data, **kept})
    for name, value in kept.items():  # as they are, not as pydantic converted them
        object.__setattr__(score, name, value)
    return score
