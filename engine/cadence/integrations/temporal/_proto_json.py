"""Reading Temporal's proto-JSON without temporalio: field names, event types, times, payloads, failures.

A workflow history comes in several spellings of the same protobuf messages: ``temporal workflow show
--output json`` and ``WorkflowHistory.to_json()`` write lowerCamel field names and enum values such as
``EVENT_TYPE_ACTIVITY_TASK_STARTED``; the Temporal UI's download may write ``ActivityTaskStarted``; a
protobuf printer keeping the proto's own names writes ``activity_task_started_event_attributes``. Every
reader here accepts all of them. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Mapping
from typing import Any

from ...exceptions import CadenceError

__all__ = [
    "HistoryFormatError",
    "as_int",
    "attributes",
    "decode_payload",
    "decode_payloads",
    "enum_name",
    "event_type",
    "failure_info",
    "field",
    "seconds",
    "timestamp",
]


class HistoryFormatError(CadenceError):
    """A workflow history could not be read (not JSON, no events, a payload of an unknown encoding)."""

    default_code = "TEMPORAL_HISTORY"


_UPPER = re.compile(r"([A-Z])")

# EventType numbers, for a history printed with enums as integers.
_EVENT_NUMBERS = {
    1: "WorkflowExecutionStarted",
    2: "WorkflowExecutionCompleted",
    3: "WorkflowExecutionFailed",
    4: "WorkflowExecutionTimedOut",
    5: "WorkflowTaskScheduled",
    6: "WorkflowTaskStarted",
    7: "WorkflowTaskCompleted",
    8: "WorkflowTaskTimedOut",
    9: "WorkflowTaskFailed",
    10: "ActivityTaskScheduled",
    11: "ActivityTaskStarted",
    12: "ActivityTaskCompleted",
    13: "ActivityTaskFailed",
    14: "ActivityTaskTimedOut",
    15: "ActivityTaskCancelRequested",
    16: "ActivityTaskCanceled",
    20: "WorkflowExecutionCancelRequested",
    21: "WorkflowExecutionCanceled",
    27: "WorkflowExecutionTerminated",
    28: "WorkflowExecutionContinuedAsNew",
    29: "StartChildWorkflowExecutionInitiated",
    30: "StartChildWorkflowExecutionFailed",
    31: "ChildWorkflowExecutionStarted",
    32: "ChildWorkflowExecutionCompleted",
    33: "ChildWorkflowExecutionFailed",
    34: "ChildWorkflowExecutionCanceled",
    35: "ChildWorkflowExecutionTimedOut",
    36: "ChildWorkflowExecutionTerminated",
}


def _snake(name: str) -> str:
    return _UPPER.sub(r"_\1", name).lower()


def field(message: Any, name: str, default: Any = None) -> Any:
    """``message[name]`` under its lowerCamel name (``lastFailure``) or the proto's (``last_failure``)."""
    if not isinstance(message, Mapping):
        return default
    if name in message:
        return message[name]
    return message.get(_snake(name), default)


def enum_name(value: Any, prefix: str) -> str:
    """``TIMEOUT_TYPE_START_TO_CLOSE`` or ``StartToClose`` → ``StartToClose`` (PascalCase)."""
    text = str(value or "")
    if text.startswith(prefix):
        return "".join(part.capitalize() for part in text[len(prefix) :].split("_"))
    return text


def event_type(event: Mapping[str, Any]) -> str:
    """The event's type in PascalCase: ``ActivityTaskStarted`` however the history spells it."""
    value = field(event, "eventType")
    if isinstance(value, int):
        return _EVENT_NUMBERS.get(value, f"Unknown{value}")
    return enum_name(value, "EVENT_TYPE_")


def attributes(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's ``...EventAttributes`` message (``{}`` when it has none)."""
    kind = event_type(event)
    name = kind[:1].lower() + kind[1:] + "EventAttributes"
    found = field(event, name)
    if isinstance(found, Mapping):
        return found
    for key, value in event.items():  # an unknown spelling, or the UI's "attributes"
        if isinstance(value, Mapping) and (
            key.endswith(("EventAttributes", "_event_attributes")) or key == "attributes"
        ):
            return value
    return {}


def as_int(value: Any, default: int = 0) -> int:
    """An int64, which proto-JSON writes as a string."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from an RFC 3339 time (nanoseconds allowed) or ``{seconds, nanos}``."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return as_int(field(value, "seconds")) + as_int(field(value, "nanos")) / 1e9
    text = str(value).strip()
    match = re.fullmatch(r"(.+?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", text)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    try:
        when = datetime.datetime.fromisoformat(base + (zone if zone and zone != "Z" else "+00:00"))
    except ValueError:
        return None
    return when.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def seconds(value: Any) -> float | None:
    """A protobuf Duration (``"0.300s"``, or ``{seconds, nanos}``) in seconds; ``None`` for none or 0."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        total = as_int(field(value, "seconds")) + as_int(field(value, "nanos")) / 1e9
    elif isinstance(value, int | float):
        total = float(value)
    else:
        try:
            total = float(str(value).removesuffix("s"))
        except ValueError:
            return None
    return total or None


def _text(value: Any) -> str:
    """A bytes field: base64 in proto-JSON; some exports write it as plain text."""
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value


def decode_payload(payload: Any) -> Any:
    """The value of one payload: ``json/plain`` data is JSON (base64 in proto-JSON), ``binary/null`` None.

    Raises:
        HistoryFormatError: another encoding (protobuf, encrypted by a codec...), or data that is not JSON.
    """
    if not isinstance(payload, Mapping):
        return payload
    metadata = field(payload, "metadata") or {}
    encoding = _text(field(metadata, "encoding"))
    data = field(payload, "data")
    if encoding == "binary/null":
        return None
    if not isinstance(data, str):  # an export that shows payloads already decoded
        return data
    if encoding not in ("json/plain", ""):
        msg = (
            f"a payload is encoded as {encoding!r}, not 'json/plain': this history was written with a "
            "payload codec or converter this reader does not know; export it decoded "
            "(e.g. `temporal workflow show --output json` with the codec endpoint) and try again"
        )
        raise HistoryFormatError(msg)
    try:
        return json.loads(_text(data))
    except ValueError as error:
        msg = f"a payload's data is not JSON ({error}); is this a Cadence workflow's history?"
        raise HistoryFormatError(msg) from None


def decode_payloads(message: Any) -> list[Any]:
    """The values of a ``Payloads`` message (``{"payloads": [...]}``)."""
    return [decode_payload(p) for p in field(message, "payloads") or ()]


def failure_info(failure: Any) -> dict[str, Any] | None:
    """A Temporal ``Failure`` in plain words, innermost cause first where it says more.

    ``{"type", "message", "traceback", "timeout"?, "non_retryable"?, "details"?}``: ``type`` is the
    application error's type (``GatewayError``), ``Timeout`` or ``Cancelled``; ``details`` the first
    detail payload (the Cadence activity's ``{node, error_type, message, traceback, fallback}``).
    """
    if not isinstance(failure, Mapping):
        return None
    cause = field(failure, "cause")
    inner = failure_info(cause) if isinstance(cause, Mapping) else None
    out: dict[str, Any] = {
        "type": "Error",
        "message": str(field(failure, "message") or ""),
        "traceback": str(field(failure, "stackTrace") or ""),
    }
    app = field(failure, "applicationFailureInfo")
    timeout = field(failure, "timeoutFailureInfo")
    if isinstance(app, Mapping):
        out["type"] = str(field(app, "type") or "Error")
        out["non_retryable"] = bool(field(app, "nonRetryable"))
        details = decode_payloads(field(app, "details"))
        if details:
            out["details"] = details[0]
            first = details[0]
            if isinstance(first, Mapping) and first.get("traceback"):
                out["traceback"] = str(first["traceback"])
    elif isinstance(timeout, Mapping):
        out["type"] = "Timeout"
        out["timeout"] = enum_name(field(timeout, "timeoutType"), "TIMEOUT_TYPE_")
    elif field(failure, "canceledFailureInfo") is not None:
        out["type"] = "Cancelled"
    elif inner is not None:  # an activity or child workflow failure: its cause is the real error
        return inner
    if inner is not None and out["type"] == "Timeout" and inner.get("type") not in (None, "Timeout"):
        out["cause"] = inner  # a timeout whose last attempt failed first: keep both
    return out
