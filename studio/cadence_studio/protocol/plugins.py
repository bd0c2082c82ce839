"""Installed plugins: packages that declare cadences under the ``cadence.cadences`` entry-point group.

```toml
[project.entry-points."cadence.cadences"]
orders = "myplugin.cadences:checkout"   # a Cadence, or a factory (a function returning one)
billing = "myplugin.billing"            # a module: all its cadences
```

This module reads package METADATA only (names, values, packages): it imports no plugin, so the UI
and the command lines may use it. Loading a plugin runs its code and happens in a worker
(:mod:`cadence_studio.worker.plugins`).

The project's ``disabled`` list (``[tool.cadence] disabled = ["orders"]``, see
:mod:`~cadence_studio.protocol.config`) takes plugins out: :func:`enabled_plugins` is the one call that
honours it.

Targets: ``@`` is every enabled installed plugin, ``@orders`` the plugin named ``orders`` (its entry-point
name), and ``:NAME`` after either picks one cadence as usual (``@billing:invoice``, ``@:orders``).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as metadata
from collections.abc import Iterable
from pathlib import Path

from .config import load_config

__all__ = [
    "ALL",
    "GROUP",
    "Plugin",
    "disabled_names",
    "enabled_plugins",
    "installed_plugins",
    "plugin_target",
]

#: the entry-point group packages declare their cadences in
GROUP = "cadence.cadences"
#: the target meaning "every enabled installed plugin" (what `cadence-studio` opens with no TARGET)
ALL = "@"


@dataclasses.dataclass(frozen=True)
class Plugin:
    """One entry point of the group: its name, value (``module`` or ``module:attr``) and package."""

    name: str
    value: str
    package: str | None = None
    version: str | None = None

    @property
    def origin(self) -> str:
        """``package version`` (or ``an unknown package``), to name where a plugin comes from."""
        if self.package is None:
            return "an unknown package"
        return f"{self.package} {self.version}" if self.version else self.package

    @property
    def target(self) -> str:
        """The TARGET that opens or runs this plugin alone: ``@NAME``."""
        return ALL + self.name

    def entry_point(self) -> metadata.EntryPoint:
        return metadata.EntryPoint(name=self.name, value=self.value, group=GROUP)


def _plugins(points: Iterable[metadata.EntryPoint]) -> list[Plugin]:
    seen: dict[str, Plugin] = {}
    for point in points:
        dist = getattr(point, "dist", None)
        package = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        # the first on sys.path wins, as importing it would
        seen.setdefault(point.name, Plugin(point.name, point.value, package, version))
    return sorted(seen.values(), key=lambda plugin: plugin.name)


def installed_plugins() -> list[Plugin]:
    """Every entry point of the ``cadence.cadences`` group installed here, by name (metadata only)."""
    return _plugins(metadata.entry_points(group=GROUP))


def disabled_names(project: Path) -> list[str]:
    """The project's ``disabled`` list (``[tool.cadence]`` of its pyproject.toml, or
    ``.cadence/settings.toml``). Raises :class:`~.config.ConfigError` for a malformed file."""
    return list(load_config(project).disabled)


def enabled_plugins(project: Path, plugins: list[Plugin] | None = None) -> list[Plugin]:
    """The installed plugins (or ``plugins``) the project in ``project`` has not disabled.

    THE call that honours ``cadence-studio disable``: anything that serves or lists installed cadences
    filters through it (or loads the ``@`` target, whose worker does)."""
    disabled = set(disabled_names(project))
    return [p for p in (installed_plugins() if plugins is None else plugins) if p.name not in disabled]


def plugin_target(spec: str) -> str | None:
    """The plugin a target's module part names: ``""`` for ``@`` (all), ``orders`` for ``@orders``, None
    when it is no plugin target."""
    return spec[len(ALL) :] if spec.startswith(ALL) else None
