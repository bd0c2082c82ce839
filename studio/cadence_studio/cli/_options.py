"""Command-line options both command lines (``cadence-studio`` and ``cadence``) share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "CwdOpt",
    "MetricsHostOpt",
    "MetricsPortOpt",
    "NamespaceOpt",
    "TemporalOpt",
    "existing_folder",
    "parse_pairs",
]


def existing_folder(path: Path) -> Path:
    """Refuse a ``--cwd`` that is not a folder, before anything is imported, run or written there."""
    if not path.is_dir():
        why = "it is a file" if path.exists() else "it does not exist"
        msg = f"no folder {str(path)!r} ({why}); pass your project's folder, e.g. --cwd ."
        raise typer.BadParameter(msg, param_hint="--cwd")
    return path


CwdOpt = Annotated[
    Path,
    typer.Option(
        "--cwd",
        callback=existing_folder,
        help="Folder to import from (your project's root); it must exist.",
    ),
]

TemporalOpt = Annotated[
    str | None,
    typer.Option("--temporal", metavar="HOST:PORT", help="A Temporal server (its frontend address)."),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace", help="The Temporal namespace (default: [tool.cadence] namespace, else 'default')."
    ),
]

MetricsPortOpt = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        min=0,
        max=65535,
        help="Serve Prometheus metrics of the runs at http://HOST:PORT/metrics (0: a free port).",
    ),
]
MetricsHostOpt = Annotated[str, typer.Option("--metrics-host", help="Address the metrics server listens on.")]


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_pairs(pairs: list[str], flag: str = "--arg") -> dict[str, Any]:
    """``NAME=VALUE`` options (``--arg``, ``--set``) as a dict; a value is JSON, else text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise typer.BadParameter(
                f"{pair!r} is not NAME=VALUE (e.g. {flag} user_id=u-42)", param_hint=flag
            )
        out[name] = _parse_value(value)
    return out
