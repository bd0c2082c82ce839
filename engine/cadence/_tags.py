"""The tagged JSON forms of the standard library's non-JSON values (``cadence.serialize`` uses them).

Each is ``{"$t": tag, "v": payload}`` (plus a key or two where the payload needs it). The modules behind
them (datetime, decimal, uuid, pathlib, zoneinfo) are imported on first use, not at ``import cadence``:
a value of one of their types can only exist once its module is loaded.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable
from typing import Any

TAG = "$t"

Encode = Callable[[Any], dict[str, Any]]
Decode = Callable[[dict[str, Any]], Any]


def _module(name: str) -> Any:
    return importlib.import_module(name)


# ---------------------------------------------------------------------------- datetime


def _enc_datetime(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {TAG: "datetime", "v": value.isoformat()}
    _zone(value.tzinfo, out)
    if value.fold:
        out["fold"] = 1
    return out


def _dec_datetime(data: dict[str, Any]) -> Any:
    value = _module("datetime").datetime.fromisoformat(data["v"])
    return _rezone(value, data)


def _enc_time(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {TAG: "time", "v": value.isoformat()}
    _zone(value.tzinfo, out)
    if value.fold:
        out["fold"] = 1
    return out


def _dec_time(data: dict[str, Any]) -> Any:
    return _rezone(_module("datetime").time.fromisoformat(data["v"]), data)


def _zone(tzinfo: Any, out: dict[str, Any]) -> None:
    # An ISO offset keeps the instant but not the zone's rules: a ZoneInfo is saved by its key too.
    key = getattr(tzinfo, "key", None)
    if key is not None and type(tzinfo).__module__ == "zoneinfo":
        out["tz"] = key


def _rezone(value: Any, data: dict[str, Any]) -> Any:
    changes: dict[str, Any] = {}
    if "tz" in data:
        changes["tzinfo"] = _module("zoneinfo").ZoneInfo(data["tz"])
    if data.get("fold"):
        changes["fold"] = 1
    return value.replace(**changes) if changes else value


def _enc_date(value: Any) -> dict[str, Any]:
    return {TAG: "date", "v": value.isoformat()}


def _dec_date(data: dict[str, Any]) -> Any:
    return _module("datetime").date.fromisoformat(data["v"])


def _enc_timedelta(value: Any) -> dict[str, Any]:
    return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}


def _dec_timedelta(data: dict[str, Any]) -> Any:
    days, seconds, microseconds = data["v"]
    return _module("datetime").timedelta(days=days, seconds=seconds, microseconds=microseconds)


# ---------------------------------------------------------------------------- others


def _enc_decimal(value: Any) -> dict[str, Any]:
    return {TAG: "decimal", "v": str(value)}


def _dec_decimal(data: dict[str, Any]) -> Any:
    return _module("decimal").Decimal(data["v"])


def _enc_uuid(value: Any) -> dict[str, Any]:
    return {TAG: "uuid", "v": str(value)}


def _dec_uuid(data: dict[str, Any]) -> Any:
    return _module("uuid").UUID(data["v"])


def _enc_path(value: Any) -> dict[str, Any]:
    return {TAG: "path", "v": str(value)}


def _dec_path(data: dict[str, Any]) -> Any:
    return _module("pathlib").Path(data["v"])


def enc_bytes(value: bytes | bytearray) -> dict[str, Any]:
    tag = "bytes" if type(value) is bytes else "bytearray"
    return {TAG: tag, "v": base64.b64encode(value).decode("ascii")}


def _dec_bytes(data: dict[str, Any]) -> Any:
    return base64.b64decode(data["v"])


def _dec_bytearray(data: dict[str, Any]) -> Any:
    return bytearray(base64.b64decode(data["v"]))


def enc_float(value: float) -> Any:
    """A finite float as it is; nan and the infinities (which JSON has no word for) tagged."""
    return value if value - value == 0.0 else {TAG: "float", "v": repr(value)}


def _dec_float(data: dict[str, Any]) -> Any:
    return float(data["v"])


#: Encoders of standard-library types, by the type's ``(module, qualname)``: exact types only (a
#: subclass could not be rebuilt as itself, so it needs a codec).
BY_NAME: dict[tuple[str, str], Encode] = {
    ("datetime", "datetime"): _enc_datetime,
    ("datetime", "date"): _enc_date,
    ("datetime", "time"): _enc_time,
    ("datetime", "timedelta"): _enc_timedelta,
    ("decimal", "Decimal"): _enc_decimal,
    ("uuid", "UUID"): _enc_uuid,
    ("pathlib", "PosixPath"): _enc_path,
    ("pathlib", "WindowsPath"): _enc_path,
}

#: Decoders of the tags above, by tag.
DECODERS: dict[str, Decode] = {
    "datetime": _dec_datetime,
    "date": _dec_date,
    "time": _dec_time,
    "timedelta": _dec_timedelta,
    "decimal": _dec_decimal,
    "uuid": _dec_uuid,
    "path": _dec_path,
    "bytes": _dec_bytes,
    "bytearray": _dec_bytearray,
    "float": _dec_float,
}
