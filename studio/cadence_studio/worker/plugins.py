"""Loading installed plugins (entry points of ``cadence.cadences``): runs their code, so only in a worker.

A plugin's value names a module (all its cadences), a ``Cadence``, or a factory (a callable returning
one). A broken plugin (bad value, import error, missing attribute, not a cadence) is reported by its
name, package and error, located in its code; the others still load. Disabled plugins (the project's
``[tool.cadence] disabled``) are not imported at all.

Catalog names: in ``@PLUGIN`` a cadence or factory plugin gives one entry named after the plugin, a
module plugin one per cadence (its attribute name); in ``@`` (all of them) a module plugin's entries
are ``PLUGIN.attr`` so that names from different packages cannot collide.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from cadence import Cadence

from .. import protocol as p
from ..errors import LoadError, StudioError, TargetError
from ..protocol.config import ConfigError, settings_file
from ..protocol.plugins import ALL, Plugin, disabled_names, installed_plugins
from ..protocol.target import Target
from .loader import Found, find_cadences, import_target
from .tracebacks import USER_ERRORS, error_info

__all__ = ["Loaded", "load_plugins", "load_target"]


@dataclasses.dataclass
class Loaded:
    """What a plugin target gave: the cadences, and how each plugin loaded."""

    label: str  # what the worker calls the target in its Ready message (module name, `@`, `@NAME`)
    found: list[Found]
    plugins: list[p.PluginStatus] | None = None  # None for a module or file target
    file: str | None = None  # the module's file (None for plugins)

    @property
    def broken(self) -> list[p.PluginStatus]:
        return [q for q in self.plugins or [] if q.error is not None]


def load_target(target: Target, *, cwd: Path) -> Loaded:
    """What any worker loads for a TARGET: a module or file (with :func:`.loader.import_target`) or
    installed plugins (``@``, ``@NAME``: :func:`load_plugins`, honouring the project's disabled list).

    Raises:
        LoadError, TargetError: as :func:`.loader.import_target`, :func:`.loader.find_cadences` and
            :func:`load_plugins` do.
    """
    if target.plugin is not None:
        return load_plugins(target, cwd=cwd)
    module = import_target(target, cwd=cwd)
    found = find_cadences(module, target.name, label=target.spec)
    return Loaded(module.__name__, found, file=getattr(module, "__file__", None))


class _Broken(StudioError):
    """A plugin that cannot be loaded; ``__cause__`` is the user's exception, if any."""


def _resolve(plugin: Plugin) -> Any:
    """Import the plugin's module and follow its attribute path."""
    match = importlib.metadata.EntryPoint.pattern.match(plugin.value)
    if match is None or match.group("module") is None:
        msg = f"its value {plugin.value!r} is not 'module' or 'module:attribute'"
        raise _Broken(msg)
    module_name, attrs = match.group("module"), (match.group("attr") or "").split(".")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            msg = f"no module named {module_name!r} (is {plugin.origin} installed completely?)"
        else:
            msg = f"{module_name!r} imports {error.name!r}, which is not installed"
        raise _Broken(msg) from error
    except SyntaxError as error:
        msg = f"syntax error in {error.filename}:{error.lineno}: {error.msg}"
        raise _Broken(msg) from error
    except USER_ERRORS as error:
        msg = f"importing {module_name!r} raised {type(error).__name__}: {error}"
        raise _Broken(msg) from error
    path = module_name
    for attr in filter(None, attrs):
        if not hasattr(obj, attr):
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(attr, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"{path!r} has no attribute {attr!r}{hint}"
            raise _Broken(msg)
        obj, path = getattr(obj, attr), f"{path}.{attr}"
    return obj


def _needs_no_arguments(fn: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return all(
        q.default is not inspect.Parameter.empty or q.kind in (q.VAR_POSITIONAL, q.VAR_KEYWORD)
        for q in signature.parameters.values()
    )


def _found(plugin: Plugin, obj: Any, *, qualified: bool) -> tuple[str, list[Found]]:
    """The plugin's kind and its cadences; a :class:`_Broken` when it offers none that can be."""
    if isinstance(obj, ModuleType):
        prefix = f"{plugin.name}." if qualified else ""
        found = find_cadences(obj)
        return "module", [dataclasses.replace(f, name=prefix + f.name) for f in found]
    if isinstance(obj, Cadence):
        return "cadence", [Found(plugin.name, "cadence", obj)]
    if callable(obj) and not isinstance(obj, type):
        if _needs_no_arguments(obj):  # a factory that can be called: it must give a Cadence
            try:
                made = obj()
            except USER_ERRORS as error:
                msg = f"calling {plugin.value}() raised {type(error).__name__}: {error}"
                raise _Broken(msg) from error
            if not isinstance(made, Cadence):
                msg = f"{plugin.value}() returned {type(made).__name__}, not a Cadence"
                raise _Broken(msg)
        return "factory", [Found(plugin.name, "factory", obj)]
    msg = f"{plugin.value} is {type(obj).__name__}, not a Cadence, a factory returning one, or a module"
    raise _Broken(msg)


def _status(plugin: Plugin, **fields: Any) -> p.PluginStatus:
    return p.PluginStatus(
        name=plugin.name, value=plugin.value, package=plugin.package, version=plugin.version, **fields
    )


def _load(plugin: Plugin, *, qualified: bool) -> tuple[p.PluginStatus, list[Found], _Broken | None]:
    try:
        kind, found = _found(plugin, _resolve(plugin), qualified=qualified)
    except _Broken as broken:
        cause = broken.__cause__
        info = error_info(cause) if cause is not None else p.ErrorInfo(type="PluginError", message="")
        info = info.model_copy(update={"message": str(broken)})
        return _status(plugin, error=info), [], broken
    return _status(plugin, kind=kind, cadences=[f.name for f in found]), found, None


def _disabled_error(plugin: Plugin, project: Path) -> LoadError:
    path, is_pyproject = settings_file(project)
    where = f"{path} [tool.cadence] disabled" if is_pyproject else f"{path} disabled"
    msg = f"plugin {plugin.name!r} ({plugin.origin}) is disabled for this project ({where})"
    return LoadError(msg, hint=f"enable it: cadence-studio enable {plugin.name}")


def _listing(plugins: list[Plugin]) -> str:
    return ", ".join(repr(q.name) for q in plugins) or "none"


def _owner(name: str, plugins: list[Plugin]) -> Plugin | None:
    """The plugin an ``@`` catalog name comes from (``orders``, or ``billing.invoice``)."""
    return next((q for q in plugins if name == q.name or name.startswith(q.name + ".")), None)


def load_plugins(target: Target, *, cwd: Path) -> Loaded:
    """Load ``@`` (every plugin the project has not disabled) or ``@NAME`` (that one).

    Raises:
        LoadError: ``@NAME`` is not installed, is disabled, or is broken; the settings are malformed.
        TargetError: ``:name`` names no cadence of what loaded.
    """
    selector = target.plugin or ""
    installed = installed_plugins()
    try:
        disabled = set(disabled_names(cwd))
    except ConfigError as error:
        raise LoadError(str(error), hint="fix the file, then open again") from None
    if selector:
        plugin = next((q for q in installed if q.name == selector), None)
        if plugin is None:
            msg = f"no installed plugin {selector!r} (installed: {_listing(installed)})"
            hint = "pip install the package that declares it; cadence-studio list --installed shows the names"
            raise LoadError(msg, hint=hint)
        return _load_alone(plugin, target, disabled, cwd, qualified=False)
    owner = _owner(target.name, installed) if target.name is not None else None
    if owner is not None:  # `@:shop.checkout`: only its plugin is imported
        return _load_alone(owner, target, disabled, cwd, qualified=True)
    statuses: list[p.PluginStatus] = []
    everything: list[Found] = []
    for plugin in installed:
        if plugin.name in disabled:
            statuses.append(_status(plugin, disabled=True))
            continue
        status, found, _ = _load(plugin, qualified=True)
        taken = {f.name for f in everything}
        clash = [f.name for f in found if f.name in taken]
        if clash:
            taken_names = ", ".join(map(repr, clash))
            msg = f"its cadence name(s) {taken_names} are another plugin's; rename the entry point"
            status = _status(plugin, error=p.ErrorInfo(type="PluginError", message=msg))
            found = []
        statuses.append(status)
        everything.extend(found)
    return Loaded("@", _pick(everything, target), statuses)


def _load_alone(plugin: Plugin, target: Target, disabled: set[str], cwd: Path, *, qualified: bool) -> Loaded:
    """One plugin (``@NAME``, or the one an ``@:NAME`` cadence comes from): disabled or broken, it fails."""
    if plugin.name in disabled:
        raise _disabled_error(plugin, cwd)
    status, found, broken = _load(plugin, qualified=qualified)
    if broken is not None:
        msg = f"plugin {plugin.name!r} ({plugin.origin}) cannot be loaded: {broken}"
        raise LoadError(msg, hint=f"fix {plugin.value!r} in {plugin.origin}") from broken.__cause__
    return Loaded(ALL if qualified else plugin.target, _pick(found, target), [status])


def _pick(found: list[Found], target: Target) -> list[Found]:
    if target.name is None:
        return found
    chosen = [f for f in found if f.name == target.name]
    if chosen:
        return chosen
    names = [f.name for f in found]
    close = difflib.get_close_matches(target.name, names, n=1)
    suggestion = f"; try '{target.spec}:{close[0]}'" if close else ""
    listing = ", ".join(names) or "none"
    msg = f"no cadence named {target.name!r} in {target.spec!r} (found: {listing}){suggestion}"
    raise TargetError(msg)
