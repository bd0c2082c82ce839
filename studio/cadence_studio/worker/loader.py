"""Finding the user's cadences: resolve a TARGET, import it, list its cadences and factories.

Runs only in the worker process: importing the module runs the user's code.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from cadence import Cadence

from ..errors import LoadError, TargetError
from ..protocol.target import Target, parse_target

__all__ = ["Found", "Target", "find_cadences", "import_target", "parse_target"]


def _module_name_for(path: Path) -> tuple[str, Path]:
    """The dotted name of a file inside packages, and the folder to put on ``sys.path``."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def import_target(target: Target, *, cwd: Path | None = None) -> ModuleType:
    """Import the target's module; failures become a :class:`LoadError` with a hint."""
    cwd = (cwd or Path.cwd()).resolve()
    if str(cwd) not in sys.path:
        sys.path.insert(0, str(cwd))
    if target.is_file or (cwd / target.spec).is_file():
        path = (cwd / target.spec).resolve()
        if not path.is_file():
            msg = f"no file {target.spec!r} (looked at {str(path)!r})"
            raise LoadError(msg, hint="check the path, relative to the folder you start from")
        if path.suffix != ".py":
            msg = f"{target.spec!r} is not a Python file: a TARGET is a .py file or a module"
            hint = "point at the .py file that defines your cadences (e.g. 'examples/shop.py') or a module"
            raise LoadError(msg, hint=hint)
        name, root = _module_name_for(path)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return _import(name, target)
    return _import(target.spec, target)


def _import(name: str, target: Target) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            msg = f"no module named {name!r}"
            hint = "run from your project's folder, or pass a file path such as 'myapp/cadences.py'"
            raise LoadError(msg, hint=hint) from error
        msg = f"{target.spec!r} imports {error.name!r}, which is not installed"
        raise LoadError(
            msg, hint=f"install it (pip install {error.name}) in the environment you run from"
        ) from error
    except SyntaxError as error:
        msg = f"syntax error in {error.filename}:{error.lineno}: {error.msg}"
        raise LoadError(msg, hint="fix the line and save: the studio reloads by itself") from error
    except BaseException as error:
        msg = f"importing {target.spec!r} raised {type(error).__name__}: {error}"
        raise LoadError(msg, hint="the traceback shows where; fix it and save") from error


@dataclasses.dataclass(frozen=True)
class Found:
    """A cadence the module offers: the object itself or a factory function that builds one."""

    name: str
    kind: Literal["cadence", "factory"]
    obj: Any

    def signature(self) -> inspect.Signature | None:
        return inspect.signature(self.obj) if self.kind == "factory" else None


def _returns_cadence(fn: Callable[..., Any], module: ModuleType) -> bool:
    annotation = inspect.signature(fn).return_annotation
    if annotation is inspect.Signature.empty:
        return False
    if isinstance(annotation, str):
        bare = annotation.strip().strip("'\"")
        return bare.split("[", 1)[0].split(".")[-1] == "Cadence"
    return annotation is Cadence or typing.get_origin(annotation) is Cadence


def find_cadences(module: ModuleType, name: str | None = None, *, label: str | None = None) -> list[Found]:
    """Module-level ``Cadence`` objects and functions annotated ``-> Cadence[...]``, in file order.

    With ``name``, only that one (a :class:`TargetError` lists what there is if it is missing).
    """
    found: list[Found] = []
    for attr, value in vars(module).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, Cadence):
            found.append(Found(attr, "cadence", value))
        elif (
            inspect.isfunction(value)
            and value.__module__ == module.__name__
            and _returns_cadence(value, module)
        ):
            found.append(Found(attr, "factory", value))
    if name is None:
        return found
    chosen = [f for f in found if f.name == name]
    if chosen:
        return chosen
    where = label or module.__name__
    names = ", ".join(repr(f.name) for f in found) or "none"
    close = difflib.get_close_matches(name, [f.name for f in found], n=1) or [f.name for f in found][:1]
    suggestion = f"; try '{where}:{close[0]}'" if close else ""
    msg = f"no Cadence named {name!r} in {where!r} (found: {names}){suggestion}"
    raise TargetError(msg)
