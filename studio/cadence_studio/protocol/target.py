"""The TARGET the studio opens: ``pkg.mod[:name]``, ``path/file.py[:name]``, or installed plugins:
``@`` (all of them), ``@PLUGIN`` (one, by its entry-point name), each with an optional ``:name``.

The UI and the command lines read it (to name files and runs); the worker imports it.
"""

from __future__ import annotations

import dataclasses
import os
import re

from ..errors import TargetError

__all__ = ["Target", "parse_target"]

_PLUGIN_NAME = re.compile(r"[\w.-]+")


@dataclasses.dataclass(frozen=True)
class Target:
    """``module`` (dotted) or ``path`` (a .py file), and the attribute after ``:`` if any."""

    spec: str
    name: str | None

    @property
    def is_file(self) -> bool:
        return self.plugin is None and (self.spec.endswith(".py") or os.sep in self.spec or "/" in self.spec)

    @property
    def plugin(self) -> str | None:
        """``""`` for ``@`` (every installed plugin), the entry-point name for ``@NAME``, else None."""
        return self.spec[1:] if self.spec.startswith("@") else None

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
    if spec.startswith("@"):  # plugin names (and an `@` catalog's `plugin.cadence`) need not be identifiers
        if name and not _PLUGIN_NAME.fullmatch(name):
            msg = (
                f"{name!r} in target {text!r} is not a cadence name; "
                "`cadence-studio list --installed` shows them"
            )
            raise TargetError(msg)
    elif name and not name.isidentifier():
        msg = f"{name!r} in target {text!r} is not a Python name; the part after ':' names a module attribute"
        raise TargetError(msg)
    return Target(spec, name or None)
