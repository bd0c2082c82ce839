"""Restoring ``cadence.serialize``'s JSON form: the other half of the module, and its refusal signal."""

from __future__ import annotations

import dataclasses
import enum
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from .score import Atomic, AtomicDict, AtomicList

TAG = "$t"
_PLAIN = frozenset({str, int, float, bool, type(None)})


class Refused(Exception):
    """A value can't be saved or restored. Raised where it is found; each container on the way out
    adds its segment of the path (innermost first), so the happy path never builds a path string."""

    def __init__(self, reason: str, fix: str, *, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix  # may hold "{field}": the dataclass field to mark TRANSIENT
        self.cause = cause
        self.segments: list[str] = []
        self.field: str | None = None


_MOVED_FIX = (
    "it was renamed or moved since the checkpoint was saved; define it again under that name "
    "(an alias at module level is enough)"
)


class Restorer:
    """Turns tagged JSON back into values; finds classes by ``module:qualname`` once each."""

    def __init__(
        self,
        decoders: Mapping[str, Callable[[dict[str, Any]], Any]],
        codecs_by_name: Mapping[str, Any],
        transient_key: str,
    ) -> None:
        self._codecs = codecs_by_name  # the live registry: codecs registered later are seen
        self._transient_key = transient_key
        self._classes: dict[str, type] = {}
        self._decoders: dict[str, Callable[[dict[str, Any]], Any]] = {
            **decoders,
            "tuple": lambda data: tuple(self._list(data["v"])),
            "set": lambda data: set(self._list(data["v"])),
            "frozenset": lambda data: frozenset(self._list(data["v"])),
            "dict": self._pairs,
            "atomic": lambda data: Atomic(self.value(data["v"])),
            "atomiclist": lambda data: AtomicList(self._list(data["v"])),
            "atomicdict": lambda data: AtomicDict(self.value(data["v"])),
            "enum": self._enum,
            "dataclass": self._dataclass,
            "namedtuple": lambda data: self._class(data["cls"], tuple)(*self._list(data["v"])),
            "codec": self._codec,
        }

    def value(self, data: Any) -> Any:
        tp = type(data)
        if tp is list:
            return self._list(data)
        if tp is dict:
            return self._dict(data)
        return data

    def _list(self, data: list[Any]) -> list[Any]:
        if set(map(type, data)) <= _PLAIN:
            return list(data)
        out = []
        for i, item in enumerate(data):
            try:
                out.append(self.value(item))
            except Refused as refused:
                refused.segments.append(f"[{i}]")
                raise
        return out

    def _dict(self, data: dict[str, Any]) -> Any:
        if TAG in data:
            return self._tagged(data)
        out = {}
        for key, item in data.items():
            try:
                out[key] = self.value(item)
            except Refused as refused:
                refused.segments.append(f"[{key!r}]")
                raise
        return out

    def _tagged(self, data: dict[str, Any]) -> Any:
        tag = data[TAG]
        decode = self._decoders.get(tag)
        if decode is None:
            msg = f"{tag!r} is not a tag this version of cadence knows (in {_short(data)})"
            raise Refused(msg, "restore it with the cadence version that saved it")
        try:
            return decode(data)
        except Refused:
            raise
        except Exception as exc:
            msg = f"the saved {tag} {_short(data)} is damaged: {exc!r}"
            raise Refused(
                msg,
                "it was changed outside cadence; fix the saved data, or resume from another run",
                cause=exc,
            ) from exc

    def _pairs(self, data: dict[str, Any]) -> dict[Any, Any]:
        out = {}
        for key, item in data["v"]:
            restored = self.value(key)
            try:
                out[restored] = self.value(item)
            except Refused as refused:
                refused.segments.append(f"[{restored!r}]")
                raise
        return out

    def _enum(self, data: dict[str, Any]) -> Any:
        cls = self._class(data["cls"], enum.Enum)
        value = self.value(data["v"])
        try:
            return cls(value)
        except ValueError as exc:
            msg = f"{cls.__qualname__} has no member with the value {value!r} any more"
            raise Refused(msg, f"add the member back to {cls.__qualname__}", cause=exc) from exc

    def _dataclass(self, data: dict[str, Any]) -> Any:
        cls = self._class(data["cls"], None)
        return self.fields(cls, data["v"])

    def _codec(self, data: dict[str, Any]) -> Any:
        codec = self._codecs.get(data["name"])
        if codec is None:
            msg = f"the value was saved with the codec {data['name']!r}, which is not registered"
            raise Refused(msg, "call cadence.register_codec(...) for it before restoring")
        return codec.decode(self.value(data["v"]))

    def _class(self, ref: str, base: type | None) -> Any:
        cls = self._classes.get(ref)
        if cls is None:
            cls = _import(ref)
            ok = dataclasses.is_dataclass(cls) if base is None else issubclass(cls, base)
            if not isinstance(cls, type) or not ok:
                msg = f"{ref!r} is {_short(cls)}, not the {base.__name__ if base else 'dataclass'} it was"
                raise Refused(msg, _MOVED_FIX)
            self._classes[ref] = cls
        return cls

    def fields(self, cls: Any, data: Mapping[str, Any]) -> Any:
        """An instance of the dataclass ``cls`` from its saved fields: built by calling ``cls`` (so
        ``__post_init__`` and pydantic validation run), then the saved ``init=False`` fields are set."""
        kwargs: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data or f.metadata.get(self._transient_key):
                if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    msg = (
                        f"the checkpoint has no value for {cls.__qualname__}.{f.name}, and it has no default"
                    )
                    refused = Refused(msg, "give the field a default (it was added since the checkpoint)")
                    refused.segments.append(f".{f.name}")
                    raise refused
                continue
            try:
                value = self.value(data[f.name])
            except Refused as refused:
                refused.segments.append(f".{f.name}")
                raise
            (kwargs if f.init else later)[f.name] = value
        try:
            built = cls(**kwargs)
        except Exception as exc:
            msg = f"{cls.__qualname__}(...) refused the saved fields: {exc!r}"[:400]
            raise Refused(msg, "make the class accept its saved values again", cause=exc) from exc
        for name, value in later.items():
            object.__setattr__(built, name, value)  # frozen dataclasses too
        return built


def _import(ref: str) -> Any:
    module_name, _, qualname = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise Refused(f"the class {ref!r} cannot be found ({exc})", _MOVED_FIX, cause=exc) from exc
    return obj


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
