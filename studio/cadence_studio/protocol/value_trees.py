"""Value trees as the worker sends them: how a node is named by a path, and how two trees differ.

The worker builds the trees (:mod:`cadence_studio.worker.values`); the UI draws and diffs them. A node is a
dict (see :mod:`cadence_studio.worker.values` for its keys) named by the list of keys leading to it.
:func:`diff_trees` joins them into one string with :func:`join_path`: keys joined by ``.``, a ``.`` inside
a key written ``\\.``, a backslash ``\\\\`` and an empty key ``\\0``, so ``["a.b", "0"]`` is
``a\\.b.0``; :func:`split_path` reverses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["PATH_SEP", "Node", "diff_trees", "join_path", "split_path"]

Node = dict[str, Any]
#: What :func:`join_path` puts between keys (keys holding it are escaped: use join_path, not str.join).
PATH_SEP = "."


def join_path(keys: Iterable[str]) -> str:
    """The keys of a node as one string (the format of :func:`diff_trees`' paths)."""
    return PATH_SEP.join(key.replace("\\", "\\\\").replace(".", "\\.") if key else "\\0" for key in keys)


def split_path(path: str) -> list[str]:
    """The keys named by a :func:`join_path` string; ``""`` is the root (no keys)."""
    if not path:
        return []
    keys: list[str] = []
    current: list[str] = []
    chars = iter(path)
    for char in chars:
        if char == ".":
            keys.append("".join(current))
            current = []
        elif char == "\\":
            escaped = next(chars, "\\")
            if escaped != "0":  # "\0" is an empty key: it adds nothing
                current.append(escaped)
        else:
            current.append(char)
    keys.append("".join(current))
    return keys


def _complete(node: Node) -> bool:
    return bool(len(node["c"]) == node.get("n", len(node["c"])))


def _absent(key: str, node: Node) -> bool:
    """Whether ``key`` is surely not a child of ``node`` (not just left out of a truncated tree)."""
    if _complete(node):
        return True
    indexed = node.get("k") == "sequence" or (node.get("k") == "atomic" and node.get("t") == "AtomicList")
    return bool(indexed and key.isascii() and key.isdigit() and int(key) >= int(node.get("n", 0)))


def _diff_node(before: Node, after: Node, keys: list[str], out: dict[str, str]) -> bool:
    """Record the differences inside one pair of nodes; return whether the node itself changed."""
    b_children, a_children = before.get("c"), after.get("c")
    if before.get("t") != after.get("t") or before.get("k") != after.get("k"):
        cut = before.get("deep") or after.get("deep")
        # A container cut off in one tree only (the node budget moved) cannot be compared.
        changed = not (cut and before.get("t") == after.get("t"))
    elif b_children is None or a_children is None:
        changed = before.get("r") != after.get("r") or (b_children is None) != (a_children is None)
    elif before.get("k") == "set":  # positions in a sorted set shift: compare the whole set
        changed = before.get("n") != after.get("n") or [c[1].get("r") for c in b_children] != [
            c[1].get("r") for c in a_children
        ]
    else:
        changed = before.get("n") != after.get("n")
        b_map: dict[str, Node] = dict(b_children)
        a_map: dict[str, Node] = dict(a_children)
        for key, b_child in b_map.items():
            if key in a_map:
                changed = _diff_node(b_child, a_map[key], [*keys, key], out) or changed
            elif _absent(key, after):
                out[join_path([*keys, key])] = "removed"
                changed = True
        for key in a_map.keys() - b_map.keys():
            if _absent(key, before):
                out[join_path([*keys, key])] = "added"
                changed = True
        if changed and keys:
            out[join_path(keys)] = "changed"
        return changed
    if changed:
        out[join_path(keys)] = "changed"
    return changed


def diff_trees(before: Node | None, after: Node) -> dict[str, str]:
    """``{path: "added" | "removed" | "changed"}`` for every part that differs between two value trees.

    Paths are :func:`join_path` strings. A container whose children differ is "changed" too, except the
    root, which is reported (as ``""``) only when it is not a container on both sides. Children left
    out of either tree (``max_items``, ``max_depth``) are not compared. ``before=None``: ``{}``.
    """
    if before is None:
        return {}
    out: dict[str, str] = {}
    _diff_node(before, after, [], out)
    return out
