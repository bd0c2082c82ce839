"""Rendering through the real tools (``dot``, ``mmdc``) and saving diagrams to files."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..exceptions import DiagramError
from .dot import to_dot
from .mermaid import to_mermaid
from .model import CadenceLike, Statuses
from .text import to_text

__all__ = ["render_svg", "save_diagram"]

_EXTENSIONS = dict.fromkeys((".mmd", ".mermaid"), "mermaid") | dict.fromkeys((".dot", ".gv"), "dot")
_EXTENSIONS |= {f".{image}": image for image in ("svg", "png", "pdf")}
_FORMATS = ("mermaid", "dot", "svg", "png", "pdf", "text")


def _run_tool(tool: str, install: str, args: list[str], stdin: bytes | None = None) -> bytes:
    """Run ``tool`` and return its standard output; a missing or failing tool is a DiagramError."""
    exe = shutil.which(tool)
    if exe is None:
        msg = f"{tool!r} was not found on PATH; {install}"
        raise DiagramError(msg, code="DIAGRAM_TOOL_MISSING")
    done = subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        msg = f"{tool} {' '.join(args)} failed (exit {done.returncode}): {error}"
        raise DiagramError(msg, details={"stderr": error})
    return done.stdout


def _run_dot(dot_source: str, output_format: str) -> bytes:
    install = "install Graphviz (apt-get install graphviz / brew install graphviz) or save as .mmd or .dot"
    return _run_tool("dot", install, [f"-T{output_format}"], dot_source.encode("utf-8"))


def _run_mmdc(mermaid_source: str) -> str:
    install = 'install it (npm install -g @mermaid-js/mermaid-cli) or use format="dot" (Graphviz)'
    with tempfile.TemporaryDirectory(prefix="cadence-mermaid-") as tmp:
        source, target = Path(tmp, "diagram.mmd"), Path(tmp, "diagram.svg")
        source.write_text(mermaid_source, encoding="utf-8")
        _run_tool("mmdc", install, ["-q", "-i", str(source), "-o", str(target)])
        return target.read_text(encoding="utf-8")


def render_svg(c: CadenceLike, *, format: str = "dot", statuses: Statuses | None = None) -> str:
    """SVG text rendered by Graphviz ``dot`` (default) or, with ``format="mermaid"``, by ``mmdc``.

    Raises:
        DiagramError: the renderer is not installed or failed.
        ValueError: ``format`` is neither ``"dot"`` nor ``"mermaid"``.
    """
    if format == "dot":
        return _run_dot(to_dot(c, statuses=statuses), "svg").decode("utf-8")
    if format == "mermaid":
        return _run_mmdc(to_mermaid(c, statuses=statuses))
    msg = f"unknown SVG renderer {format!r}; use format='dot' or format='mermaid'"
    raise ValueError(msg)


def _resolve_format(path: Path, format: str | None) -> str:
    accepted = f"accepted extensions: {', '.join(_EXTENSIONS)}"
    if format is not None:
        wanted = format.lower().lstrip(".")
        wanted = {"mmd": "mermaid", "gv": "dot"}.get(wanted, wanted)
        if wanted not in _FORMATS:
            msg = f"unknown diagram format {format!r}; use one of {', '.join(_FORMATS)} ({accepted})"
            raise ValueError(msg)
        return wanted
    suffix = path.suffix.lower()
    found = _EXTENSIONS.get(suffix)
    if found is None:
        formats = ", ".join(_FORMATS)
        msg = f"cannot tell the diagram format of {str(path)!r}; {accepted}, or pass format= ({formats})"
        raise ValueError(msg)
    return found


def save_diagram(
    c: CadenceLike,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    statuses: Statuses | None = None,
) -> Path:
    """Write the diagram to ``path``, in ``format`` or the one its extension names; returns the path.

    The file is replaced atomically, so a failed render never leaves a partial file; a symlink at
    ``path`` is replaced by the file, never written through. ``format="text"`` writes :func:`to_text`
    (no extension names it).

    Raises:
        ValueError: the format is unknown; the message lists the accepted ones.
        DiagramError: an image format was asked for and ``dot`` is missing or failed.
    """
    target = Path(path)
    kind = _resolve_format(target, format)
    if kind == "mermaid":
        data = to_mermaid(c, statuses=statuses).encode("utf-8")
    elif kind == "dot":
        data = to_dot(c, statuses=statuses).encode("utf-8")
    elif kind == "text":
        data = to_text(c).encode("utf-8")
    else:
        data = _run_dot(to_dot(c, statuses=statuses), kind)
    # A sibling temp file renamed over the target; open(..., "xb") keeps the usual umask permissions.
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
