"""Installed plugins on the command line: ``list --installed``, ``disable NAME``, ``enable NAME``.

Plugins are entry points of the ``cadence.cadences`` group (:mod:`cadence_studio.protocol.plugins`).
Listing them loads them, so a worker does it (the ``@`` target); disabling and enabling only read
metadata and edit the project's settings file (pyproject.toml ``[tool.cadence] disabled``, or
``.cadence/settings.toml`` when the project has no pyproject.toml), by lines, keeping the rest of it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from .. import protocol as p
from ..protocol.config import ConfigError, settings_file
from ..protocol.plugins import ALL, Plugin, disabled_names, installed_plugins
from ._options import CwdOpt
from .headless import _catalog
from .run_output import where
from .terminal_text import escaped
from .toml_edit import TomlEditError, set_list

__all__ = [
    "PluginsTargetArg",
    "add_plugin_commands",
    "disable_plugin",
    "enable_plugin",
    "list_installed",
    "no_target_args",
]

#: an optional TARGET: without one, the installed plugins (entry points of `cadence.cadences`)
PluginsTargetArg = Annotated[
    str,
    typer.Argument(
        help="A module (myapp.cadences) or file (examples/shop.py), optionally with :name; "
        "@NAME for one installed plugin; by default @, every installed plugin the project has not disabled."
    ),
]

NAME_HELP = "The plugin's entry-point name (cadence-studio list --installed shows them)."

_DECLARE = 'declare them in a package\'s pyproject.toml: [project.entry-points."cadence.cadences"]'


def _targets(status: p.PluginStatus) -> list[str]:
    """How to run each of a plugin's cadences: ``@orders``, or ``@billing:invoice`` for a module's."""
    if status.kind != "module":
        return [f"{ALL}{status.name}"]
    return [f"{ALL}{status.name}:{name.removeprefix(status.name + '.')}" for name in status.cadences]


def _origin(status: p.PluginStatus) -> str:
    if status.package is None:
        return "an unknown package"
    return f"{status.package} {status.version}" if status.version else status.package


async def list_installed(
    *, cwd: Path, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print every installed plugin: name, package and version, value, kind, cadences, or its error.

    Exit 0 when every enabled plugin loaded, 1 when one is broken (the others are listed), 2 when the
    plugins could not be listed at all (a malformed settings file)."""
    out, err = escaped(out, json=as_json), escaped(err)
    if not installed_plugins():
        if as_json:
            print("[]", file=out)
        else:
            print(f"no installed plugins: {_DECLARE}", file=out)
        return 0
    client, catalog = await _catalog(ALL, cwd, err)
    if catalog is None:
        return 2
    await client.close(grace=1.0)
    statuses = catalog.plugins or []
    if as_json:
        rows = [{**s.model_dump(mode="json"), "targets": _targets(s) if s.kind else []} for s in statuses]
        print(json.dumps(rows, indent=2), file=out)
    else:
        _print_statuses(statuses, catalog.entries, out)
    return 1 if any(s.error is not None for s in statuses) else 0


def _print_statuses(statuses: list[p.PluginStatus], entries: list[p.CadenceEntry], out: TextIO) -> None:
    kinds = {e.name: e for e in entries}
    for status in statuses:
        if status.disabled:
            state = f"disabled (cadence-studio enable {status.name})"
        elif status.error is not None:
            state = "BROKEN"
        else:
            state = status.kind or ""
        print(f"{status.name}  {_origin(status)}  {status.value}  {state}", file=out)
        if status.error is not None:
            print(f"  error: {status.error.message}{where(status.error)}", file=out)
        elif not status.disabled and not status.cadences:
            print("  (no cadences: define a Cadence at module level or a function -> Cadence)", file=out)
        for name, target in zip(status.cadences, _targets(status), strict=False):
            entry = kinds.get(name)
            suffix = "  factory" if entry is not None and entry.kind == "factory" else ""
            local = name.removeprefix(status.name + ".")
            print(f"  {local}{suffix}  run: cadence-studio run {target}", file=out)
    disabled = sum(s.disabled for s in statuses)
    broken = sum(s.error is not None for s in statuses)
    print(f"\n{len(statuses)} installed, {disabled} disabled, {broken} broken", file=out)


def _unknown(name: str, plugins: list[Plugin], err: TextIO) -> int:
    if plugins:
        listing = ", ".join(f"{q.name!r} ({q.origin})" for q in plugins)
        print(f"error: no installed plugin {name!r}; installed: {listing}", file=err)
    else:
        print(f"error: no installed plugin {name!r}: no plugins are installed ({_DECLARE})", file=err)
    return 2


def _save(project: Path, names: list[str], err: TextIO) -> str | None:
    """Write the disabled list; where it went (``PATH [tool.cadence]``), or None after an error."""
    path, is_pyproject = settings_file(project)
    try:
        set_list(path, ("tool", "cadence") if is_pyproject else (), "disabled", names)
    except (TomlEditError, OSError) as error:
        print(f"error: {error}", file=err)
        return None
    return f"{path} [tool.cadence]" if is_pyproject else str(path)


def _current(project: Path, err: TextIO) -> list[str] | None:
    try:
        return disabled_names(project)
    except ConfigError as error:
        print(f"error: {error}", file=err)
        return None


def disable_plugin(name: str, *, cwd: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Add ``name`` to the project's disabled plugins (exit 2 when no such plugin is installed)."""
    plugins = installed_plugins()
    plugin = next((q for q in plugins if q.name == name), None)
    if plugin is None:
        return _unknown(name, plugins, err)
    current = _current(cwd, err)
    if current is None:
        return 2
    if name in current:
        path, _ = settings_file(cwd)
        print(
            f"plugin {name!r} is already disabled ({path}); enable it with: cadence-studio enable {name}",
            file=out,
        )
        return 0
    saved = _save(cwd, [*current, name], err)
    if saved is None:
        return 2
    print(
        f"disabled plugin {name!r} ({plugin.origin}) for this project in {saved}; "
        f"enable it again with: cadence-studio enable {name}",
        file=out,
    )
    return 0


def enable_plugin(name: str, *, cwd: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Take ``name`` off the project's disabled plugins (exit 2 when it is neither there nor installed)."""
    current = _current(cwd, err)
    if current is None:
        return 2
    plugins = installed_plugins()
    if name not in current:
        if not any(q.name == name for q in plugins):
            return _unknown(name, plugins, err)
        print(f"plugin {name!r} is already enabled", file=out)
        return 0
    saved = _save(cwd, [n for n in current if n != name], err)
    if saved is None:
        return 2
    print(f"enabled plugin {name!r} for this project in {saved}", file=out)
    return 0


def add_plugin_commands(app: typer.Typer) -> None:
    """``cadence-studio disable NAME`` and ``enable NAME``."""

    @app.command("disable")
    def disable_command(
        name: Annotated[str, typer.Argument(help=NAME_HELP)],
        cwd: CwdOpt = Path("."),
    ) -> None:
        """Stop loading an installed plugin in this project (pyproject.toml [tool.cadence] disabled, or
        .cadence/settings.toml): list shows it disabled; run, worker, the studio and webhooks skip it.

        Example: cadence-studio disable orders
        """
        raise typer.Exit(disable_plugin(name, cwd=cwd))

    @app.command("enable")
    def enable_command(
        name: Annotated[str, typer.Argument(help="The plugin's entry-point name.")],
        cwd: CwdOpt = Path("."),
    ) -> None:
        """Load a disabled plugin again in this project.

        Example: cadence-studio enable orders
        """
        raise typer.Exit(enable_plugin(name, cwd=cwd))


def no_target_args() -> list[str]:
    """What `cadence-studio` alone does: open the installed plugins, or print the help (none installed)."""
    if installed_plugins():
        return ["open", ALL]
    print(
        "no TARGET given and no installed plugins (entry points of `cadence.cadences`): "
        "pass a module or file, e.g. cadence-studio examples/shop.py",
        file=sys.stderr,
    )
    return []
