"""Built-in ``.sync`` merges inside the workflow, on neutral values (no user type is ever imported).

The score crosses as ``cadence.serialize`` JSON. Plain JSON values and the tags for list-like and
dict-like containers and float specials decode to Python values; every other tagged value (a
dataclass, an enum, a codec's value, a date...) becomes an :class:`Opaque` value, equal to another
when their JSON is. The engine's own strategies (``cadence.merge``) then run on those values exactly
as in a local run, and the result is encoded back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from ...merge import Snapshot, fail_on_conflict, last_write_wins, smart_merge

__all__ = ["Opaque", "decode", "encode", "merge_changes"]

TAG = "$t"
_STRATEGIES = {
    "fail_on_conflict": fail_on_conflict,
    "last_write_wins": last_write_wins,
    "smart_merge": smart_merge,
}


def canonical(data: Any) -> str:
    """One text per JSON value (key order does not count)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class Opaque:
    """A serialised value the workflow does not look into: compared and hashed by its JSON."""

    __slots__ = ("data", "key")

    def __init__(self, data: Any) -> None:
        self.data = data
        self.key = canonical(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return self.key


def decode(data: Any) -> Any:
    """A serialised value as a neutral Python value."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TAG)
    if tag is None:
        return {k: decode(v) for k, v in data.items()}
    if tag == "tuple":
        return tuple(decode(v) for v in data["v"])
    if tag == "set":
        return {decode(v) for v in data["v"]}
    if tag == "frozenset":
        return frozenset(decode(v) for v in data["v"])
    if tag == "dict":
        return {decode(k): decode(v) for k, v in data["v"]}
    if tag == "float":
        return float(data["v"])
    return Opaque(data)


def encode(value: Any) -> Any:
    """A neutral value serialised again (the inverse of :func:`decode`)."""
    if isinstance(value, Opaque):
        return value.data
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        items = sorted((encode(v) for v in value), key=canonical)
        return {TAG: "set" if isinstance(value, set) else "frozenset", "v": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {TAG: "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    msg = f"cannot encode {type(value).__name__} in the workflow"
    raise TypeError(msg)


def merge_changes(
    strategy: str, base: Mapping[str, Any], names: Sequence[str], changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Merge the members' ``changes`` (serialised, declaration order) into ``base`` with a built-in
    strategy; returns the serialised values to write. Raises :class:`cadence.MergeConflict`."""
    original = SimpleNamespace(**{k: decode(v) for k, v in base.items()})
    decoded = [{k: decode(v) for k, v in changed.items()} for changed in changes]
    snaps = [
        Snapshot(name, i, SimpleNamespace(**{**vars(original), **decoded[i]})) for i, name in enumerate(names)
    ]
    values = _STRATEGIES[strategy](original, snaps, decoded)
    return {k: encode(v) for k, v in (values or {}).items()}
