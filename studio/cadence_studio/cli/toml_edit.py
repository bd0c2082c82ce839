"""A minimal, line-level edit of one list setting in a TOML file, keeping the rest of it as it was.

Used for ``[tool.cadence] disabled = [...]`` in a pyproject.toml (or top-level ``disabled`` in
``.cadence/settings.toml``): only the setting's own lines change (or one line is added, with the table
header when the table is missing); comments, order and formatting elsewhere stay byte for byte. The
result is read back with :mod:`tomllib` and must hold exactly the same data but the setting, or nothing
is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from ..errors import StudioError

__all__ = ["TomlEditError", "set_list"]

_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


class TomlEditError(StudioError):
    """The file cannot be edited safely by lines; the message says what to write by hand."""


def _table_bounds(lines: list[str], table: tuple[str, ...]) -> tuple[int, int] | None:
    """(first line after the header, end) of ``[a.b]``; (0, first header) for the top level."""
    if not table:
        end = next((i for i, line in enumerate(lines) if _HEADER.match(line)), len(lines))
        return 0, end
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, table)) + r"\s*\]\s*(#.*)?$")
    for i, line in enumerate(lines):
        if header.match(line):
            end = next((j for j in range(i + 1, len(lines)) if _HEADER.match(lines[j])), len(lines))
            return i + 1, end
    return None


def _value_end(lines: list[str], start: int, end: int) -> int:
    """The last line of the key/value starting at ``start`` (an array may span lines)."""
    for last in range(start, end):
        try:
            tomllib.loads("".join(lines[start : last + 1]))
        except tomllib.TOMLDecodeError:
            continue
        return last
    msg = f"cannot find where the value on line {start + 1} ends"
    raise TomlEditError(msg)


def _key(line: str) -> str | None:
    match = _KEY.match(line)
    return match["key"].strip('"') if match else None


def _line(key: str, values: list[str], newline: str) -> str:
    return f"{key} = [{', '.join(json.dumps(v) for v in values)}]{newline}"


def _without(data: dict[str, Any], table: tuple[str, ...], key: str) -> dict[str, Any]:
    """``data`` with ``table.key`` removed (and ``table`` when that leaves it empty), for comparing."""
    copy: dict[str, Any] = json.loads(json.dumps(data, default=str))
    node = copy
    for part in table:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node.pop(key, None)
    return copy


def _prune(data: Any) -> Any:
    """Empty tables removed (a header added with the setting is no other change)."""
    if isinstance(data, dict):
        pruned = {k: _prune(v) for k, v in data.items()}
        return {k: v for k, v in pruned.items() if v != {}}
    return data


def _same_but(
    before: dict[str, Any], result: str, table: tuple[str, ...], key: str, values: list[str]
) -> bool:
    """Whether ``result`` reads as ``before`` with ``table.key = values`` (and nothing else changed)."""
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        return False
    node: Any = after
    for part in table:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    got = node.get(key, []) if isinstance(node, dict) else None
    return got == values and _prune(_without(after, table, key)) == _prune(_without(before, table, key))


def set_list(path: Path, table: tuple[str, ...], key: str, values: list[str]) -> None:
    """Set ``table.key = values`` in the TOML file ``path`` (created if missing); an empty list removes
    the key. Raises :class:`TomlEditError` when the file's layout does not allow a safe line edit."""
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""  # CRLF kept as it is
        before = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"cannot read {path}: {error}; fix the file first"
        raise TomlEditError(msg) from None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    bounds = _table_bounds(lines, table)
    new = [_line(key, values, newline)] if values else []
    if bounds is None:
        if new:
            name = ".".join(table)
            gap = [newline] if lines and lines[-1].strip() else []
            lines += [*gap, f"[{name}]{newline}", *new]
    else:
        start, end = bounds
        at = next((i for i in range(start, end) if _key(lines[i]) == key), None)
        if at is not None:
            last = _value_end(lines, at, end)
            comment = re.search(r"\]\s*(#.*)$", lines[last].rstrip("\r\n")) if at == last else None
            if new and comment:
                new = [new[0].rstrip("\r\n") + "  " + comment.group(1) + newline]
            lines[at : last + 1] = new
        else:
            # after the table's last setting, before the blank lines and comments that close it
            after = start
            for i in range(start, end):
                if lines[i].strip() and not lines[i].lstrip().startswith("#"):
                    after = _value_end(lines, i, end) + 1 if _KEY.match(lines[i]) else i + 1
            lines[after:after] = new
    result = "".join(lines)
    if not _same_but(before, result, table, key, values):
        where = f"[{'.'.join(table)}] " if table else ""
        msg = f"cannot edit {path} safely by lines; set {where}{key} = {json.dumps(values)} by hand"
        raise TomlEditError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result, encoding="utf-8", newline="")
