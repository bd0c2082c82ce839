"""Value trees of encoded scores: the checkpoints' JSON (``cadence.serialize_score``) shown without the
user's classes.

A run read from elsewhere (a Temporal workflow history) carries its score encoded; the UI process must
not import the user's module to rebuild it, so a tagged value is drawn from its tag:
``{"$t": "dataclass", "cls": "shop:LineItem", "v": {...}}`` reads ``LineItem(sku='desk-oak', ...)``,
an enum ``Tier('gold')``, a tuple ``(1, 2)``. The trees have the worker's shape
(:mod:`cadence_studio.worker.values`): same keys, kinds and reprs for the values JSON can hold as they
are, so the inspector, its diffs and ``history show`` read them alike.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from .value_trees import Node

__all__ = ["encoded_tree", "score_tree"]

_TAG = "$t"
_SCALARS = {"datetime", "date", "time", "decimal", "uuid", "path"}
_SCALAR_NAMES = {"decimal": "Decimal", "uuid": "UUID", "path": "Path", "timedelta": "timedelta"}


def _clip(text: str, limit: int) -> str:
    return text[:limit] + "…" if len(text) > limit else text


def _class_name(ref: Any) -> str:
    """``shop:LineItem`` → ``LineItem`` (a nested class keeps its last name)."""
    return str(ref or "?").rpartition(":")[2].rpartition(".")[2] or "?"


class _Builder:
    def __init__(self, max_items: int, max_depth: int, max_repr: int) -> None:
        self.max_items = max_items
        self.max_depth = max_depth
        self.max_repr = max_repr

    def scalar(self, value: Any) -> Node:
        if isinstance(value, str):
            text = repr(value[: self.max_repr]) + "…" if len(value) > self.max_repr else repr(value)
            return {"t": "str", "k": "scalar", "r": text}
        return {"t": type(value).__name__, "k": "scalar", "r": _clip(repr(value), self.max_repr)}

    def node(self, value: Any, depth: int = 0) -> Node:
        if value is None or isinstance(value, bool | int | float | str):
            return self.scalar(value)
        if isinstance(value, list):
            return self.container("list", "sequence", [(str(i), "", v) for i, v in enumerate(value)], depth)
        if not isinstance(value, Mapping):
            return {"t": type(value).__name__, "k": "repr", "r": _clip(repr(value), self.max_repr)}
        if _TAG not in value:
            return self.container("dict", "mapping", [(str(k), repr(k), v) for k, v in value.items()], depth)
        return self.tagged(value, str(value[_TAG]), value.get("v"), depth)

    def tagged(self, value: Mapping[str, Any], tag: str, data: Any, depth: int) -> Node:
        if tag in ("tuple", "set", "frozenset", "atomiclist"):
            items = data if isinstance(data, list) else []
            name = {"atomiclist": "AtomicList"}.get(tag, tag)
            kind = "set" if tag in ("set", "frozenset") else "sequence"
            if tag == "atomiclist":
                kind = "atomic"
            return self.container(name, kind, [(str(i), "", v) for i, v in enumerate(items)], depth)
        if tag in ("dict", "atomicdict"):
            if tag == "dict":
                pairs = [
                    (self.node(k, depth + 1)["r"], self.node(k, depth + 1)["r"], v) for k, v in data or []
                ]
            else:
                pairs = [(str(k), repr(k), v) for k, v in (data or {}).items()]
            return self.container("dict" if tag == "dict" else "AtomicDict", "mapping", pairs, depth)
        if tag == "dataclass":
            fields = data if isinstance(data, Mapping) else {}
            items = [(str(k), str(k), v) for k, v in fields.items()]
            return self.container(_class_name(value.get("cls")), "dataclass", items, depth)
        if tag == "namedtuple":
            items = [(str(i), "", v) for i, v in enumerate(data if isinstance(data, list) else [])]
            return self.container(_class_name(value.get("cls")), "sequence", items, depth)
        if tag == "atomic":
            return self.container("Atomic", "atomic", [("value", "", data)], depth)
        if tag == "enum":
            name = _class_name(value.get("cls"))
            return {
                "t": name,
                "k": "repr",
                "r": _clip(f"{name}({self.node(data, depth + 1)['r']})", self.max_repr),
            }
        if tag == "float":
            return {"t": "float", "k": "scalar", "r": str(data)}
        if tag in ("bytes", "bytearray"):
            try:
                raw = base64.b64decode(str(data))
            except (binascii.Error, ValueError):
                raw = b"?"
            shown = repr(raw) if tag == "bytes" else f"bytearray({raw!r})"
            return {"t": tag, "k": "scalar", "r": _clip(shown, self.max_repr)}
        if tag in _SCALARS or tag == "timedelta":
            name = _SCALAR_NAMES.get(tag, tag)
            return {"t": name, "k": "scalar", "r": _clip(f"{name}({data!r})", self.max_repr)}
        if tag == "codec":
            name = _class_name(value.get("name"))
            inner = self.node(data, depth + 1)
            return {"t": name, "k": "repr", "r": _clip(f"{name}({inner['r']})", self.max_repr)}
        return {"t": tag, "k": "repr", "r": _clip(repr(dict(value)), self.max_repr)}

    def container(self, name: str, kind: str, items: list[tuple[str, str, Any]], depth: int) -> Node:
        opening, closing = _brackets(name, kind)
        if depth >= self.max_depth:
            cut = (
                f"{opening}…{closing}"
                if kind in ("dataclass", "atomic")
                else f"{opening}… {len(items)} items{closing}"
            )
            return {"t": name, "k": "repr", "r": cut, "deep": True}
        shown = items[: self.max_items]
        nodes = [self.node(child, depth + 1) for _, _, child in shown]
        children: list[list[Any]] = [[key, node] for (key, _, _), node in zip(shown, nodes, strict=True)]
        parts: list[str] = []
        length = 0
        for (_, label, _), child in zip(shown, nodes, strict=True):
            sep = ": " if kind == "mapping" else "="
            parts.append(f"{label}{sep}{child['r']}" if label else str(child["r"]))
            length += len(parts[-1]) + 2
            if length > self.max_repr:
                break
        if len(parts) < len(items):
            parts.append("…")
        if name == "set" and not items:
            summary = "set()"
        elif name == "tuple" and len(items) == 1 and len(parts) == 1:
            summary = f"({parts[0]},)"
        else:
            summary = opening + ", ".join(parts) + closing
        node: Node = {
            "t": name,
            "k": kind,
            "r": _clip(summary, self.max_repr),
            "c": children,
            "n": len(items),
        }
        if len(items) > len(shown):
            node["more"] = len(items) - len(shown)
        return node


def _brackets(name: str, kind: str) -> tuple[str, str]:
    if kind in ("dataclass",) or name == "Atomic":
        return f"{name}(", ")"
    if name == "list":
        return "[", "]"
    if name == "tuple":
        return "(", ")"
    if kind == "sequence" or name == "AtomicList":
        return f"{name}([", "])"
    if name in ("dict", "set"):
        return "{", "}"
    return f"{name}({{", "})"


def encoded_tree(value: Any, *, max_items: int = 100, max_depth: int = 8, max_repr: int = 200) -> Node:
    """The value tree of one encoded value (``cadence.serialize_value``'s JSON); never raises."""
    return _Builder(max_items, max_depth, max_repr).node(value)


def score_tree(
    score: Mapping[str, Any] | None,
    score_type: str | None,
    *,
    order: Sequence[str] = (),
    max_items: int = 100,
    max_repr: int = 200,
) -> Node | None:
    """The value tree of an encoded score (``{field: encoded}``), named by its ``module:Qualname`` type.

    ``order``: the score's fields in declaration order (JSON that crossed Temporal has its keys sorted);
    fields it does not name follow, as they are.
    """
    if score is None:
        return None
    rank = {name: i for i, name in enumerate(order)}
    fields = (
        dict(sorted(score.items(), key=lambda item: rank.get(item[0], len(rank)))) if rank else dict(score)
    )
    tagged = {_TAG: "dataclass", "cls": score_type or "score", "v": fields}
    return _Builder(max_items, 8, max_repr).node(tagged)
