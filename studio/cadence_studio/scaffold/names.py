"""The names and paths scaffolding refuses: not identifiers, modules that would shadow others, paths
that leave the project, names longer than file systems allow. Each refusal says how to fix it.
"""

from __future__ import annotations

import keyword
import os
import re
import sys
from pathlib import Path

from ..errors import ScaffoldError

__all__ = [
    "MAX_FILE_NAME",
    "MAX_FOLDER_NAME",
    "MAX_NAME",
    "PROJECT_NAME",
    "TAKEN_MODULES",
    "identifier",
    "module_name",
    "module_path",
    "refuse_long_names",
    "refuse_outside",
    "shown_path",
    "under_root",
]

# The longest name a note, cadence or project may have: its files (``test_$name.py`` and the temporary
# ``.test_$name.py.XXXXXXXX.tmp`` written first) stay well under the file systems' 255-byte limit.
MAX_NAME = 100
# Bytes a folder name may have (NAME_MAX), and a rendered file name, leaving room for the temporary
# name it is written under first.
MAX_FOLDER_NAME = 255
MAX_FILE_NAME = MAX_FOLDER_NAME - len("..12345678.tmp")

# Modules a generated module must not shadow: the engine, the test runner, and its own imports.
TAKEN_MODULES = frozenset({"cadence", "cadence_studio", "conftest", "pytest"})
# A distribution name (PEP 508): letters, digits, ``.``, ``_``, ``-``; alphanumeric at both ends.
PROJECT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def identifier(text: str) -> str:
    """``text`` as a Python identifier: ``process-payment`` → ``process_payment``.

    Raises:
        ScaffoldError: what is still not an identifier (spaces, a leading digit, a keyword, non-ASCII).
    """
    name = text.strip().replace("-", "_")
    if not name:
        msg = "a name is needed; give one such as 'process_payment'"
        raise ScaffoldError(msg)
    if name[0].isdigit():
        msg = f"{text!r} starts with a digit, which a Python name cannot; put a word first: 'step_{name}'"
        raise ScaffoldError(msg)
    if not (name.isascii() and name.isidentifier()):
        bad = "".join(sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "_"))}))
        cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
        fix = f"; try {cleaned!r}" if cleaned.isidentifier() and not cleaned[0].isdigit() else ""
        msg = (
            f"{text!r} is not a Python identifier (it contains {bad!r}); "
            f"use ASCII letters, digits, '_' or '-'{fix}"
        )
        raise ScaffoldError(msg)
    if keyword.iskeyword(name):
        msg = f"{text!r} is a Python keyword; pick another name, e.g. '{name}_step'"
        raise ScaffoldError(msg)
    if not name.strip("_"):
        msg = f"{text!r} has no letters; give it a name that says what it does"
        raise ScaffoldError(msg)
    if len(name) > MAX_NAME:
        msg = (
            f"the name {name[:20] + '…'!r} is too long ({len(name)} characters, at most {MAX_NAME}); "
            "a short name that says what it does reads better in a cadence"
        )
        raise ScaffoldError(msg)
    return name


def module_name(text: str) -> str:
    """An identifier that can also name a module of the project without shadowing another."""
    name = identifier(text)
    if name in TAKEN_MODULES or name in sys.stdlib_module_names:
        owner = "the standard library" if name in sys.stdlib_module_names else "the tools"
        msg = f"{name!r} is a module of {owner}, which a module of that name would hide; try '{name}_step'"
        raise ScaffoldError(msg)
    if name.startswith("test"):
        msg = f"{name!r} starts with 'test', so pytest would collect it as a test; pick another name"
        raise ScaffoldError(msg)
    if name.startswith("__"):
        msg = f"{name!r} starts with '__', which Python reserves for special names; pick another name"
        raise ScaffoldError(msg)
    return name


def under_root(directory: Path, root: Path) -> Path:
    """``directory`` taken from ``root`` when relative."""
    return directory if directory.is_absolute() else root / directory


def module_path(directory: Path, module: str) -> str:
    """The dotted import path of ``directory/module.py``: up through the folders with ``__init__.py``."""
    parts = [module]
    here = Path(os.path.realpath(directory))
    refuse_long_names(here / f"{module}.py", "")
    while (here / "__init__.py").is_file() and here.parent != here:
        parts.insert(0, here.name)
        here = here.parent
    return ".".join(parts)


def refuse_outside(path: Path, root: Path, shown: Path) -> None:
    """Refuse ``path`` unless it is under ``root`` once ``..`` and symlinks are resolved."""
    real_root = Path(os.path.realpath(root))
    if not Path(os.path.realpath(path)).is_relative_to(real_root):
        msg = f"{str(shown)!r} is outside {str(root)!r}; write inside the project, a folder under it"
        raise ScaffoldError(msg)


def refuse_long_names(path: Path, where: str) -> None:
    """Refuse a path with a folder or file name longer than file systems allow (255 bytes)."""
    *folders, name = path.parts
    for part in folders:
        if len(part.encode()) > MAX_FOLDER_NAME:
            msg = (
                f"the folder name {part[:20] + '…'!r} is too long ({len(part.encode())} bytes, "
                f"at most {MAX_FOLDER_NAME}); pick a shorter folder"
            )
            raise ScaffoldError(msg)
    if len(name.encode()) > MAX_FILE_NAME:
        msg = (
            f"template {where!r} renders to a file name of {len(name.encode())} bytes "
            f"(at most {MAX_FILE_NAME}); give a shorter name"
        )
        raise ScaffoldError(msg)


def shown_path(path: Path) -> str:
    """``path`` as the user would type it: relative to the current folder when it is under it."""
    absolute = Path(os.path.abspath(path))
    return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(path)
