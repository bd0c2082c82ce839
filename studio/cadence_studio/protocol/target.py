"""The TARGET the studio opens: ``pkg.mod[:name]`` or ``path/file.py[:name]``.

The UI and the command lines read it (to name files and runs); the worker imports it.
"""

from __future__ import annotations

import dataclasses
import os

from ..errors import TargetError

__all__ = ["Target", "parse_target"]


@dataclasses.dataclass(frozen=True)
class Target:
    """``module`` (dotted) or ``path`` (a .py file), and the attribute after ``:`` if any."""

    spec: str
    name: str | None

    @property
    def is_file(self) -> bool:
        return self.spec.endswith(".py") or os.sep in self.spec or "/" in self.spec

    def __str__(self) -> str:
        return f"{self.spec}:{self.name}" if self.name else self.spec


def parse_target(text: str) -> Target:
    """``pkg.mod``, ``pkg.mod:name``, ``path/file.py`` or ``path/file.py:name``."""
    text = text.strip()
    spec, sep, name = text.rpartition(":") if ":" in text else (text, "", "")
    if not sep:
        spec, name = text, ""
    if not spec:
        msg = (
            f"no module or file in target {text!r}; write it as 'pkg.module[:name]' or 'path/file.py[:name]'"
        )
        raise TargetError(msg)
    if name and not name.isidentifier():
        msg = f"{name!r} in target {text!r} is not a Python name; the part after ':' names a module attribute"
        raise TargetError(msg)
    return Target(spec, name or None)
