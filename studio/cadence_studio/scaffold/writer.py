"""Scaffolding: render ``templates/`` into a project, safely.

Each folder of ``templates/`` is a *kind* (``project``, ``cadence``, ``note``, ``test``, and any folder
added later). File contents and file and folder names are :class:`string.Template` text; a trailing
``.tmpl`` is dropped from a rendered name (it keeps linters and pytest off template sources).

Rendering refuses what would hurt the project: names that are not Python identifiers, target paths
outside the root (``../../x``, absolute paths, symlinks that point out), existing files unless forced.
It is atomic: every file is rendered in memory first, then each is written to a temporary file in its
folder and renamed into place; if anything fails, the files and folders the call created are removed
and the files it overwrote are put back.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

import cadence_studio

from ..errors import ScaffoldError
from .names import (
    MAX_NAME,
    PROJECT_NAME,
    identifier,
    module_name,
    module_path,
    refuse_long_names,
    refuse_outside,
    shown_path,
    under_root,
)
from .variables import decorator_doc, literal_source, name_variables, outcome_check, python_source

__all__ = [
    "MAX_NAME",
    "Scaffolded",
    "identifier",
    "init_project",
    "new_cadence",
    "new_note",
    "render",
    "template_kinds",
    "templates_dir",
    "write_file",
]

# Removed from a rendered file name: ``$name.py.tmpl`` → ``charge_card.py``.
_TEMPLATE_SUFFIX = ".tmpl"


@dataclass(frozen=True, slots=True)
class Scaffolded:
    """What a scaffolding call wrote, and what to do next."""

    files: list[Path]
    hint: str


@dataclass(frozen=True, slots=True)
class _Planned:
    """One rendered file, not yet written."""

    path: Path
    data: bytes
    source: str


# ---------------------------------------------------------------------------- templates


def templates_dir() -> Path:
    """The templates folder: inside the installed package (a wheel), else the repository's."""
    shipped = Path(cadence_studio.__file__).parent / "templates"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[3] / "templates"


def template_kinds(templates: Path | None = None) -> list[str]:
    """The kinds that can be rendered: one per folder of the templates folder."""
    base = templates if templates is not None else templates_dir()
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def render(
    kind: str,
    target_dir: Path,
    variables: Mapping[str, str],
    *,
    root: Path,
    force: bool = False,
    templates: Path | None = None,
) -> list[Path]:
    """Render every file of template ``kind`` into ``target_dir`` (relative to ``root``) and return them.

    Args:
        kind: a folder of the templates folder.
        target_dir: where to write; a relative path is taken from ``root``.
        variables: the ``$placeholders``' values.
        root: nothing is written outside this folder.
        force: overwrite existing files.
        templates: the templates folder (default: :func:`templates_dir`).

    Raises:
        ScaffoldError: unknown kind, missing variable, a path outside ``root``, existing files without
            ``force``, or a write that failed (then nothing of this call is left behind).
    """
    return _write(_plan(kind, target_dir, variables, root=root, templates=templates), force=force)


# ---------------------------------------------------------------------------- note, cadence, project


def new_note(
    name: str,
    *,
    directory: Path,
    root: Path,
    is_async: bool = True,
    retry: int | None = None,
    timeout: float | None = None,
    fallback: str | None = None,
    force: bool = False,
    templates: Path | None = None,
) -> Scaffolded:
    """Write the note ``name`` (``directory/name.py``) and its test; ``hint`` says how to use it.

    Args:
        retry: attempts for ``@retry`` (transient errors: ``ConnectionError``, ``TimeoutError``).
        timeout: seconds for ``@timeout``, per attempt.
        fallback: value for ``@fallback``, stored on the score once the note gives up: a Python
            literal (``0``, ``'guest'``, ``None``, ``[]``), or any other text taken as a string.
    """
    name = module_name(name)
    decorators: list[str] = []
    applied: list[str] = []  # decorator kinds, outermost first, as ``describe()`` lists them
    if fallback is not None:
        decorators.append(f'@fallback({literal_source(fallback)}, field="{name}_result")')
        applied.append("fallback")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 1:
            msg = f"retry={retry!r} is not a number of attempts; give 1 or more, e.g. --retry 3"
            raise ScaffoldError(msg)
        decorators.append(f"@retry({retry}, delay=0.1, on=(ConnectionError, TimeoutError))")
        applied.append("retry")
    if timeout is not None:
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            msg = f"timeout={timeout!r} is not a positive number of seconds; give e.g. --timeout 2"
            raise ScaffoldError(msg)
        decorators.append(f"@timeout({float(timeout)!r})")
        applied.append("timeout")
    stdlib = ["import asyncio"] if is_async else []
    stdlib.append("from dataclasses import dataclass")
    variables = {
        **name_variables(name),
        "imports": "\n".join(stdlib)
        + f"\n\nfrom cadence import {', '.join(['Score', *sorted([*applied, 'note'])])}",
        "decorators": "".join(f"{line}\n" for line in decorators),
        "decorator_doc": decorator_doc(fallback is not None, retry is not None, timeout is not None),
        "def_": "async def" if is_async else "def",
        "await_": "await " if is_async else "",
        "stand_in": (
            "await asyncio.sleep(0)  # a real note awaits a service or a query here"
            if is_async
            else "# a real note calls a service or computes here"
        ),
    }
    module = module_path(under_root(directory, root), name)
    test = {
        **name_variables(name),
        "module": module,
        "subject": f"``{name}`` alone in a cadence",
        "cadence": f'Cadence("test_{name}", {variables["class_name"]}Score()).then("{name}", {name})',
        "described": python_source([(name, applied)]),
        "failure_doc": (
            "When the work fails, the fallback value is stored instead."
            if fallback is not None
            else "When the work fails, the run ends with a NoteError carrying the cause."
        ),
        "outcome_check": outcome_check(fallback),
    }
    files = _scaffold("note", directory, root, variables, test, force=force, templates=templates)
    hint = f'from {module} import {name}\n.then("{name}", {name})'
    return Scaffolded(files, hint)


def new_cadence(
    name: str, *, directory: Path, root: Path, force: bool = False, templates: Path | None = None
) -> Scaffolded:
    """Write the cadence ``name`` (``directory/name.py``) and its test; ``hint`` says how to open it."""
    name = module_name(name)
    if name == "validate_request":
        msg = f"{name!r} is the name of a note in the cadence template; pick another, e.g. 'check_request'"
        raise ScaffoldError(msg)
    names = name_variables(name)
    module = module_path(under_root(directory, root), name)
    test = {
        **names,
        "module": module,
        "subject": f"The module-level ``{name}`` cadence",
        "cadence": name,
        "described": python_source([("validate_request", []), (f"do_{name}", [])]),
        "failure_doc": "When the work fails, the run ends with a NoteError carrying the cause.",
        "outcome_check": outcome_check(None),
    }
    files = _scaffold("cadence", directory, root, names, test, force=force, templates=templates)
    hint = f"from {module} import {name}\nopen it in the studio: cadence-studio {module}"
    return Scaffolded(files, hint)


def init_project(
    directory: Path, *, name: str | None = None, force: bool = False, templates: Path | None = None
) -> Scaffolded:
    """Write a working project into ``directory``: a package with a cadence, its notes and a test.

    ``name`` (default: the folder's name) is the distribution name; the package is its identifier
    in lower case (``my-service`` → ``my_service``).
    """
    project = (name if name is not None else Path(os.path.abspath(directory)).name).strip()
    if not PROJECT_NAME.match(project):
        msg = (
            f"{project!r} is not a project name (letters, digits, '.', '_' and '-', starting and ending "
            "with a letter or digit); give one with --name, e.g. --name my-service"
        )
        raise ScaffoldError(msg)
    package = module_name(project.replace(".", "_").lower())
    variables = {"project": project, "package": package}
    plans = _plan("project", Path(), variables, root=directory, templates=templates)
    files = _write(plans, force=force)
    where = "" if Path(os.path.abspath(directory)) == Path.cwd() else f"cd {directory} && "
    hint = f"{where}python -m pytest\nopen it in the studio: cadence-studio {package}.cadences"
    return Scaffolded(files, hint)


def write_file(path: Path, data: bytes, *, root: Path, force: bool = False) -> Path:
    """Write one generated file (an export) with the refusals and the atomic write of scaffolding:
    ``path`` (relative to the current folder) must be under ``root`` once ``..`` and symlinks are
    resolved, and an existing file is replaced only with ``force``.

    Raises:
        ScaffoldError: the path leaves ``root``, its name is too long, it is a folder, it exists
            (without ``force``), or the write failed (nothing was written).
    """
    shown = Path(shown_path(path))
    refuse_long_names(Path(os.path.abspath(path)), str(shown))
    refuse_outside(path, root, shown)
    _write([_Planned(Path(os.path.abspath(path)), data, str(shown))], force=force)
    return path


# ---------------------------------------------------------------------------- helpers


def _scaffold(
    kind: str,
    directory: Path,
    root: Path,
    variables: Mapping[str, str],
    test_variables: Mapping[str, str],
    *,
    force: bool,
    templates: Path | None,
) -> list[Path]:
    """Render ``kind`` and its test together, so that both are written or neither."""
    tests = directory / "tests"
    test_dir = tests if under_root(tests, root).is_dir() else directory
    plans = _plan(kind, directory, variables, root=root, templates=templates)
    plans += _plan("test", test_dir, test_variables, root=root, templates=templates)
    return _write(plans, force=force)


def _sources(folder: Path) -> Iterator[Path]:
    """The template files of ``folder``, in a stable order (caches and hidden files left out)."""
    for source in sorted(folder.rglob("*")):
        rel = source.relative_to(folder).parts
        if source.is_file() and not any(p == "__pycache__" or p.startswith(".") for p in rel):
            yield source


def _substitute(text: str, variables: Mapping[str, str], where: str) -> str:
    try:
        return Template(text).substitute(variables)
    except KeyError as error:
        key = error.args[0]
        msg = (
            f"template {where!r} uses ${key} but no value was given for {key!r}; "
            f"pass it in the variables (given: {', '.join(sorted(variables)) or 'none'})"
        )
        raise ScaffoldError(msg) from None
    except ValueError as error:
        msg = f"template {where!r} has an invalid placeholder ({error}); write $$ for a literal '$'"
        raise ScaffoldError(msg) from None


def _plan(
    kind: str,
    target_dir: Path,
    variables: Mapping[str, str],
    *,
    root: Path,
    templates: Path | None,
) -> list[_Planned]:
    """Render ``kind`` in memory and check every target path; nothing is written."""
    base = templates if templates is not None else templates_dir()
    kinds = template_kinds(base)
    if kind not in kinds:
        msg = (
            f"unknown template kind {kind!r} (found: {', '.join(map(repr, kinds)) or 'none'}); "
            f"pick one of those or add a folder {str(base / 'KIND')!r}"
        )
        raise ScaffoldError(msg)
    target = under_root(target_dir, root)
    refuse_outside(target, root, target_dir)
    plans: list[_Planned] = []
    for source in _sources(base / kind):
        where = f"{kind}/{source.relative_to(base / kind).as_posix()}"
        parts = [_substitute(p, variables, where) for p in source.relative_to(base / kind).parts]
        parts[-1] = parts[-1].removesuffix(_TEMPLATE_SUFFIX)
        if any(not p or p in (".", "..") or "/" in p or "\\" in p for p in parts):
            msg = (
                f"template {where!r} renders to the path {'/'.join(parts)!r}; give names without '/' or '..'"
            )
            raise ScaffoldError(msg)
        path = target.joinpath(*parts)
        refuse_long_names(path, where)
        refuse_outside(path, root, Path(shown_path(path)))
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            msg = f"cannot read template {where!r} ({error}); templates are UTF-8 text files"
            raise ScaffoldError(msg) from None
        plans.append(_Planned(path, _substitute(text, variables, where).encode(), where))
    return plans


def _existing(plans: Sequence[_Planned], force: bool) -> list[Path]:
    """The targets that exist already; refused unless ``force`` (a folder in the way, always)."""
    seen: dict[str, str] = {}
    for plan in plans:
        key = os.path.realpath(plan.path)
        if key in seen:
            msg = f"templates {seen[key]!r} and {plan.source!r} both render to {str(plan.path)!r}; rename one"
            raise ScaffoldError(msg)
        seen[key] = plan.source
    folders = [p.path for p in plans if p.path.is_dir()]
    if folders:
        msg = f"{', '.join(map(shown_path, folders))} is a folder; move it away or pick another name"
        raise ScaffoldError(msg)
    existing = [p.path for p in plans if p.path.exists() or p.path.is_symlink()]
    if existing and not force:
        listed = ", ".join(shown_path(p) for p in existing)
        msg = f"{len(existing)} file(s) exist already: {listed}; pass --force (force=True) to overwrite them"
        raise ScaffoldError(msg)
    return existing


def _make_dirs(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, recording each one created (top first)."""
    missing: list[Path] = []
    here = folder
    while not here.exists():
        missing.append(here)
        here = here.parent
    for new in reversed(missing):
        new.mkdir()
        created.append(new)


def _write_temp(plan: _Planned, temps: list[Path]) -> Path:
    """Write ``plan``'s bytes to a new hidden file next to its target (mode from the umask)."""
    temp = plan.path.with_name(f".{plan.path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    temps.append(temp)
    with os.fdopen(fd, "wb") as stream:
        stream.write(plan.data)
    return temp


def _commit(temp: Path, target: Path) -> None:
    """Move a written temporary file into place (atomic on one file system)."""
    os.replace(temp, target)


def _write(plans: Sequence[_Planned], *, force: bool) -> list[Path]:
    """Write every plan or none: temporary files first, then renames; undo all on any failure."""
    existing = set(_existing(plans, force))
    created: list[Path] = []
    temps: list[Path] = []
    backups: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        staged = []
        for plan in plans:
            _make_dirs(plan.path.parent, created)
            staged.append((_write_temp(plan, temps), plan.path))
        for temp, path in staged:
            if path in existing:
                backup = path.with_name(f".{path.name}.{secrets.token_hex(4)}.bak")
                os.replace(path, backup)
                backups[path] = backup
            _commit(temp, path)
            done.append(path)
    except BaseException as error:
        _undo(temps, done, backups, created)
        if isinstance(error, OSError):
            what = error.filename or "a file"
            msg = f"could not write {what} ({error.strerror or error}); nothing was written, try again"
            raise ScaffoldError(msg) from error
        raise
    for backup in backups.values():
        with contextlib.suppress(OSError):
            backup.unlink()
    return [plan.path for plan in plans]


def _undo(temps: list[Path], done: list[Path], backups: dict[Path, Path], created: list[Path]) -> None:
    """Remove what a failed write created and put back what it replaced."""
    for path in [*temps, *done]:
        with contextlib.suppress(OSError):
            path.unlink()
    for path, backup in backups.items():
        with contextlib.suppress(OSError):
            os.replace(backup, path)
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()
