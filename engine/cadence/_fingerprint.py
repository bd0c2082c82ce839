"""What a checkpoint records of a definition: its structure (node ids and kinds, in order), a
fingerprint of it, and each note's code hash; and where two structures part."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Mapping, Sequence
from types import CodeType
from typing import Any

from ._describe import _origin, callable_info

__all__ = ["code_hash", "code_hashes", "first_difference", "shape", "structure"]


def structure(description: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(node id, kind)`` of every node of a ``describe()`` tree, in order."""
    out: list[tuple[str, str]] = []

    def walk(node: Mapping[str, Any]) -> None:
        out.append((node["id"], node["kind"]))
        for child in node.get("children", ()):
            walk(child)

    walk(description)
    return out


def _digest_code(code: CodeType, h: Any) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _digest_code(const, h)
        else:
            h.update(repr(const).encode())


def code_hash(fn: Any) -> str:
    """A hash of what a callable does: its bytecode, names and constants (not its line numbers),
    and its resilience settings."""
    h = hashlib.sha256()
    origin = _origin(fn)
    code = getattr(origin, "__code__", None)
    if isinstance(code, CodeType):
        _digest_code(code, h)
    else:
        h.update(repr(getattr(origin, "__qualname__", type(origin).__qualname__)).encode())
    h.update(json.dumps(callable_info(fn)["resilience"], sort_keys=True, default=repr).encode())
    return h.hexdigest()[:16]


def code_hashes(definition: Any, parent_id: str, ids: Mapping[str, str] | None = None) -> dict[str, str]:
    """``node id -> code hash`` of every note, condition and merge function of a definition.

    A callable used by many notes is hashed once, and its hash is one string for all of them;
    ``ids`` (node id -> the same string, e.g. from :func:`structure`) makes the keys those strings
    rather than copies (a 10,000-note cadence kept 1.3 MB of both in the worker)."""
    out: dict[str, str] = {}
    _code_hashes(definition, parent_id, out, {}, ids or {})
    return out


def _code_hashes(
    definition: Any,
    parent_id: str,
    out: dict[str, str],
    memo: dict[int, tuple[Any, str]],
    ids: Mapping[str, str],
) -> None:
    def put(nid: str, fn: Any) -> None:
        known = memo.get(id(fn))  # (the memo keeps each callable alive, so an id stays its own)
        if known is None:
            known = memo[id(fn)] = (fn, code_hash(fn))
        out[ids.get(nid, nid)] = known[1]

    for m in definition.measures:
        nid = f"{parent_id}/{m.seg}"
        if m.kind == "note":
            put(nid, m.task)
        elif m.kind in ("sequence", "sync"):
            for t in m.tasks:
                put(f"{nid}/{t.seg}", t.fn)
        elif m.kind == "split":
            put(nid, m.condition)
            for value, label in ((True, "true"), (False, "false")):
                for t in m.branches[value]:
                    put(f"{nid}/{label}/{t.seg}", t.fn)
        elif m.kind == "child":
            put(nid, m.merge)
            _code_hashes(m.child, nid, out, memo, ids)


def first_difference(saved: Sequence[Sequence[str]], now: Sequence[tuple[str, str]]) -> str:
    """Where two structures part, in words."""
    for i, (old, new) in enumerate(zip(saved, now, strict=False)):
        if tuple(old) != new:
            return (
                f"node {i + 1} was {old[0]!r} ({old[1]}) when the run was checkpointed and is "
                f"{new[0]!r} ({new[1]}) now"
            )
    if len(saved) > len(now):
        return f"node {saved[len(now)][0]!r} is gone"
    return f"node {now[len(saved)][0]!r} is new"


_shapes: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], dict[str, Any]]] = weakref.WeakKeyDictionary()


def shape(definition: Any) -> dict[str, Any]:
    """Fingerprint, structure and code hashes of a definition, kept while its measures stay the same
    (describing and hashing every note costs far more than a checkpoint)."""
    key = _measure_ids(definition)
    cached = _shapes.get(definition)
    if cached is not None and cached[0] == key:
        return cached[1]
    shape = structure(definition.describe())
    out = {
        "fingerprint": hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16],
        "structure": shape,
        "code": code_hashes(definition, shape[0][0], {nid: nid for nid, _ in shape}),
    }
    _shapes[definition] = (key, out)
    return out


def _measure_ids(definition: Any) -> tuple[int, ...]:
    ids: list[int] = []
    for m in definition.measures:
        ids.append(id(m))
        if m.kind == "child":
            ids.extend(_measure_ids(m.child))
    return tuple(ids)
