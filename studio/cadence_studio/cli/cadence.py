"""``cadence``: start projects, add notes and cadences, check and draw them from the command line."""

from __future__ import annotations

import inspect
import json
import os
import sys
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cadence import Cadence, __version__, diagram

from .. import scaffold
from ..errors import LoadError, ScaffoldError, TargetError
from ..protocol.target import parse_target
from ..worker.loader import Found, find_cadences, import_target
from ._options import CwdOpt
from .validate import validate

__all__ = ["app", "main"]

app = typer.Typer(
    name="cadence",
    help="Start projects, add notes and cadences, check and draw them.",
    no_args_is_help=True,
    add_completion=False,
)
new_app = typer.Typer(
    name="new",
    help=(
        "Add a note or a cadence (with its test) to the project.\n\n"
        "Examples: cadence new note process-payment --retry 3; cadence new cadence checkout -o my_service"
    ),
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(new_app)


class DiagramFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"
    text = "text"


def _fail(message: str, hint: str = "", code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return typer.Exit(code)


def _load(target: str, cwd: Path) -> list[Found]:
    try:
        parsed = parse_target(target)
        module = import_target(parsed, cwd=cwd)
        return find_cadences(module, parsed.name, label=parsed.spec)
    except TargetError as error:
        raise _fail(str(error)) from None
    except LoadError as error:
        raise _fail(str(error), error.hint) from None


def _built(found: Found) -> Cadence[Any]:
    if found.kind == "cadence":
        return found.obj  # type: ignore[no-any-return]
    try:
        made = found.obj()
    except TypeError as error:
        raise _fail(
            f"{found.name}() needs arguments ({error}); point at a module-level cadence instead"
        ) from None
    if not isinstance(made, Cadence):
        raise _fail(f"{found.name}() returned {type(made).__name__}, not a Cadence")
    return made


def _version(value: bool) -> None:
    if value:
        print(f"cadence {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Start projects, add notes and cadences, check and draw them."""


@app.command("diagram")
def diagram_command(
    target: Annotated[str, typer.Argument(help="MODULE:ATTR or path/file.py:ATTR")],
    fmt: Annotated[
        DiagramFormat | None,
        typer.Option("-f", "--format", help="Default: from -o's extension, else mermaid."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    cwd: CwdOpt = Path("."),
) -> None:
    """Draw a cadence as Mermaid, DOT, SVG, PNG or a text tree.

    Examples: cadence diagram myapp.cadences:checkout -f mermaid;
    cadence diagram examples/shop.py:checkout -o checkout.svg
    """
    found = _load(target, cwd)
    if len(found) != 1:
        names = ", ".join(f.name for f in found) or "none"
        raise _fail(f"{target!r} has {len(found)} cadences ({names}); add ':NAME' to pick one")
    graph = _built(found[0]).describe()
    try:
        if output is not None:
            diagram.save_diagram(graph, output, format=fmt.value if fmt is not None else None)
            print(f"wrote {output}", file=sys.stderr)
            return
        kind = fmt or DiagramFormat.mermaid
        if kind is DiagramFormat.png:
            raise _fail("PNG is binary: write it to a file with -o checkout.png")
        text = {
            DiagramFormat.mermaid: lambda: diagram.to_mermaid(graph),
            DiagramFormat.dot: lambda: diagram.to_dot(graph),
            DiagramFormat.svg: lambda: diagram.render_svg(graph),
            DiagramFormat.text: lambda: diagram.to_text(graph),
        }[kind]()
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    except (ValueError, diagram.DiagramError) as error:
        raise _fail(str(error)) from None


@app.command("validate")
def validate_command(
    target: Annotated[str, typer.Argument(help="MODULE or MODULE:ATTR (also path/file.py[:ATTR])")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable findings.")] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Check every cadence of a module; exit 1 on errors, 0 when there are only warnings.

    Factories are called with their defaults and checked like the rest.
    A factory with a parameter that has no default is a warning (not validated); the rest are checked.

    Examples: cadence validate myapp.cadences; cadence validate examples/shop.py:checkout --json
    """
    found = _load(target, cwd)
    results: dict[str, list[dict[str, str]]] = {}
    unchecked: set[str] = set()
    for item in found:
        needs = _required_params(item)
        if needs:
            unchecked.add(item.name)
            message = (
                f"not validated: {item.name}() needs arguments ({', '.join(needs)}); give them defaults, "
                "or validate the cadence it builds (a module-level cadence)"
            )
            results[item.name] = [{"level": "warning", "where": item.name, "message": message}]
            continue
        try:
            built = _built(item)
        except typer.Exit:
            raise
        except Exception as error:  # the user's factory raised when called with its defaults
            message = f"calling {item.name}() with its defaults raised {type(error).__name__}: {error}"
            results[item.name] = [{"level": "error", "where": item.name, "message": message}]
            continue
        results[item.name] = [f.as_dict() for f in validate(built)]
    errors = sum(f["level"] == "error" for fs in results.values() for f in fs)
    warnings = sum(f["level"] == "warning" for fs in results.values() for f in fs)
    if as_json:
        payload = {
            "cadences": results,
            "errors": errors,
            "warnings": warnings,
            "not_validated": sorted(unchecked),
        }
        print(json.dumps(payload, indent=2))
    else:
        if not found:
            print(f"no cadences in {target!r}: define a Cadence at module level or a function -> Cadence")
        for name, findings in results.items():
            mark = "✗" if any(f["level"] == "error" for f in findings) else "-" if name in unchecked else "✓"
            print(f"{mark} {name}{'  (not validated)' if name in unchecked else ''}")
            for f in findings:
                print(f"  {f['level']}: {f['where']}: {f['message']}")
        print(f"{errors} error(s), {warnings} warning(s)")
    raise typer.Exit(1 if errors else 0)


def _required_params(found: Found) -> list[str]:
    """The parameters of a factory that have no default (none for a cadence)."""
    signature = found.signature()
    if signature is None:
        return []
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        name
        for name, param in signature.parameters.items()
        if param.default is inspect.Parameter.empty and param.kind not in variadic
    ]


def _written(done: scaffold.Scaffolded) -> None:
    """Print the files a scaffolding call wrote (relative to the current folder) and its hint."""
    for path in done.files:
        print(f"wrote {os.path.relpath(path)}")
    print()
    print(done.hint)


Force = Annotated[bool, typer.Option("-f", "--force", help="Overwrite files that exist already.")]
OutputDir = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Folder to write to, inside the current one. Default: the package of the project made by "
        "`cadence init` here (its test goes to the package's tests/), else here.",
    ),
]


def _default_folder(root: Path) -> Path:
    """Where `cadence new` writes without -o: the package a `cadence init` project here names, else here.

    `init` writes a pyproject.toml whose wheel packages name the package (``my_service``); its tests
    live in ``my_service/tests/``, where the scaffolding puts a test when the folder has one.
    """
    try:
        config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Path(".")
    wheel = config.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    packages = wheel.get("packages") if isinstance(wheel, dict) else None
    if not isinstance(packages, list):
        return Path(".")
    found = [Path(p) for p in packages if isinstance(p, str) and (root / p / "__init__.py").is_file()]
    return found[0] if len(found) == 1 else Path(".")


@app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="Folder of the new project (created if missing).")] = Path(
        "."
    ),
    name: Annotated[
        str | None, typer.Option("--name", help="Project name. Default: the folder's name.")
    ] = None,
    force: Force = False,
) -> None:
    """Start a project: a package with a cadence, its notes, a passing test and a pyproject.toml.

    Examples: cadence init my-service; cadence init . --name my-service
    """
    try:
        done = scaffold.init_project(directory, name=name, force=force)
    except ScaffoldError as error:
        raise _fail(str(error)) from None
    _written(done)


@new_app.command("cadence")
def new_cadence_command(
    name: Annotated[str, typer.Argument(help="Python name of the cadence (kebab-case is converted).")],
    output: OutputDir = None,
    force: Force = False,
) -> None:
    """Add a cadence module (a Score, two notes, the cadence and its factory) and its test.

    Examples: cadence new cadence checkout; cadence new cadence refund-order -o my_service
    """
    try:
        done = scaffold.new_cadence(
            name, directory=output or _default_folder(Path.cwd()), root=Path.cwd(), force=force
        )
    except ScaffoldError as error:
        raise _fail(str(error)) from None
    _written(done)


@new_app.command("note")
def new_note_command(
    name: Annotated[str, typer.Argument(help="Python name of the note (kebab-case is converted).")],
    output: OutputDir = None,
    force: Force = False,
    retry: Annotated[
        int | None, typer.Option("--retry", metavar="N", help="@retry with N attempts (transient errors).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", metavar="S", help="@timeout of S seconds per attempt.")
    ] = None,
    fallback: Annotated[
        str | None,
        typer.Option("--fallback", metavar="V", help="@fallback storing V (a literal, else a string)."),
    ] = None,
    sync: Annotated[bool, typer.Option("--sync", help="A plain def note instead of async def.")] = False,
) -> None:
    """Add a note module and its test; print the line that adds it to a cadence.

    Examples: cadence new note process-payment; cadence new note charge_card -o my_service --retry 3
    --timeout 2 --fallback 0; cadence new note score_risk --sync
    """
    try:
        done = scaffold.new_note(
            name,
            directory=output or _default_folder(Path.cwd()),
            root=Path.cwd(),
            is_async=not sync,
            retry=retry,
            timeout=timeout,
            fallback=fallback,
            force=force,
        )
    except ScaffoldError as error:
        raise _fail(str(error)) from None
    _written(done)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cadence``."""
    app(args=argv, prog_name="cadence")
