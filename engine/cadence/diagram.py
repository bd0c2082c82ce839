"""Diagrams of a cadence: Mermaid, Graphviz DOT, SVG/PNG/PDF through ``dot``, and a text tree.

Everything is drawn from ``cadence.describe()`` alone, so a described dict works as well as a cadence.
Both text formats are built from one small graph model; node ids are generated (``n0``, ``n1``, ...)
and never derived from names, and every label is escaped for its format.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeAlias

from ._labels import badges, format_duration, run_marks
from .exceptions import DiagramError

__all__ = [
    "DiagramError",
    "badges",
    "format_duration",
    "print_cadence",
    "render_svg",
    "run_marks",
    "save_diagram",
    "to_dot",
    "to_mermaid",
    "to_text",
]


class Describable(Protocol):
    def describe(self) -> dict[str, Any]: ...


CadenceLike: TypeAlias = Describable | Mapping[str, Any]
Statuses: TypeAlias = Mapping[str, Mapping[str, Any]]

# status -> (fill, border); light fills keep black labels readable.
_STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "pending": ("#f3f4f6", "#9ca3af"),
    "running": ("#dbeafe", "#2563eb"),
    "paused": ("#fef3c7", "#d97706"),
    "done": ("#dcfce7", "#16a34a"),
    "failed": ("#fee2e2", "#dc2626"),
    "skipped": ("#f9fafb", "#d1d5db"),
}
_MERMAID_DIRECTIONS = ("TD", "TB", "BT", "LR", "RL")
_MERMAID_THEMES = ("default", "neutral", "dark", "forest", "base")
_DOT_RANKDIRS = ("TB", "LR", "BT", "RL")
_EXTENSIONS = dict.fromkeys((".mmd", ".mermaid"), "mermaid") | dict.fromkeys((".dot", ".gv"), "dot")
_EXTENSIONS |= {f".{image}": image for image in ("svg", "png", "pdf")}
_FORMATS = ("mermaid", "dot", "svg", "png", "pdf", "text")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- graph model -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    id: str
    label: str
    shape: str  # start | end | note | fork | join | decision
    status: str | None = None
    tooltip: str | None = None


@dataclass(slots=True)
class _Cluster:
    id: str
    title: str
    status: str | None = None
    items: list[_Node | _Cluster] = field(default_factory=list)


_Edge: TypeAlias = tuple[str, str, str | None]  # (source id, target id, label)
# Edges still waiting for their target: (source node id, edge label).
_Pending: TypeAlias = list[tuple[str, str | None]]


class _Builder:
    """Turns a described cadence into nested clusters and edges, chaining measures by pending edges."""

    def __init__(self, statuses: Statuses | None) -> None:
        self._statuses = statuses or {}
        self._count = 0
        self._edges: list[_Edge] = []

    def build(self, desc: Mapping[str, Any]) -> tuple[_Cluster, list[_Edge]]:
        """The root cluster (titled with the cadence and its score type) and every edge."""
        score = f" ({desc['score_type']})" if desc.get("score_type") else ""
        root = _Cluster("root", f"{_name(desc)}{score}")
        status, extra = self._status(desc)
        start = self._node(root, f"▶ {_name(desc)}{extra}", "start", status)
        pending = self._chain(desc.get("children") or [], [(start.id, None)], root)
        self._connect(pending, self._node(root, "end", "end"))
        return root, self._edges

    def _status(self, measure: Mapping[str, Any]) -> tuple[str | None, str]:
        """The measure's known status (or None) and a run line: ``"\\n12 ms ↻2 ↪"`` (or "")."""
        info = self._statuses.get(str(measure.get("id")))
        if not isinstance(info, Mapping):
            return None, ""
        status, duration = info.get("status"), info.get("duration")
        known = status if isinstance(status, str) and status in _STATUS_COLOURS else None
        shown = run_marks(info)
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
            shown.insert(0, format_duration(duration))
        return known, f"\n{' '.join(shown)}" if shown else ""

    def _node(self, parent: _Cluster, label: str, shape: str, status: str | None = None) -> _Node:
        node = _Node(f"n{self._count}", label, shape, status)
        self._count += 1
        parent.items.append(node)
        return node

    def _cluster(self, parent: _Cluster, title: str, status: str | None = None) -> _Cluster:
        cluster = _Cluster(f"s{self._count}", title, status)
        self._count += 1
        parent.items.append(cluster)
        return cluster

    def _connect(self, pending: _Pending, node: _Node) -> _Pending:
        self._edges.extend((source, node.id, label) for source, label in pending)
        return [(node.id, None)]

    def _chain(self, measures: list[Mapping[str, Any]], pending: _Pending, parent: _Cluster) -> _Pending:
        for measure in measures:
            pending = self._measure(measure, pending, parent)
        return pending

    def _measure(self, measure: Mapping[str, Any], pending: _Pending, parent: _Cluster) -> _Pending:
        kind, name = measure.get("kind"), _name(measure)
        children: list[Mapping[str, Any]] = measure.get("children") or []
        status, extra = self._status(measure)
        if kind == "note":
            info: Mapping[str, Any] = measure.get("note") or {}
            node = self._node(parent, _join(name, _badges(info)) + extra, "note", status)
            node.tooltip = _tooltip(info)
            return self._connect(pending, node)
        if kind == "sync":
            cluster = self._cluster(parent, f"{name} · sync")
            strategy = measure.get("merge_strategy")
            label = _join(f"⇉ {name}", f"merge: {strategy}" if strategy else "") + extra
            fork = self._node(cluster, label, "fork", status)
            self._connect(pending, fork)
            ends = [edge for task in children for edge in self._measure(task, [(fork.id, None)], cluster)]
            return self._connect(ends or [(fork.id, None)], self._node(cluster, "", "join"))
        if kind == "split":
            cluster = self._cluster(parent, f"{name} · split")
            condition = (measure.get("condition") or {}).get("name") or "condition"
            parallel = "\n∥ parallel" if measure.get("parallel") else ""
            decision = self._node(cluster, f"{name}\n{condition}?{parallel}{extra}", "decision", status)
            self._connect(pending, decision)
            ends = []
            for branch in children:
                label = "true" if branch.get("value", branch.get("name") == "true") else "false"
                ends += self._chain(branch.get("children") or [], [(decision.id, label)], cluster)
            return self._connect(ends or [(decision.id, None)], self._node(cluster, "", "join"))
        if kind == "child":
            merge = (measure.get("merge") or {}).get("name")
            title = f"{name} ⟶ {measure.get('cadence', '?')}" + (f" · merge: {merge}" if merge else "")
        else:  # sequence, and any future container kind: its children in order, in a labelled cluster.
            title = f"{name} · {kind}"
        cluster = self._cluster(parent, title + extra.replace("\n", " · "), status)
        if not children:  # an empty cluster would vanish (DOT) or float unconnected (Mermaid)
            return self._connect(pending, self._node(cluster, "(empty)", "note"))
        return self._chain(children, pending, cluster)


def _check_choice(what: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        msg = f"unknown {what} {value!r}; use one of {', '.join(accepted)}"
        raise ValueError(msg)


def _describe(c: CadenceLike) -> Mapping[str, Any]:
    if isinstance(c, Mapping):
        return c
    return c.describe()


def _name(measure: Mapping[str, Any]) -> str:
    return str(measure.get("name", "?"))


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _badges(info: Mapping[str, Any]) -> str:
    return " ".join(badges(info))


def _tooltip(info: Mapping[str, Any]) -> str | None:
    where = ".".join(str(part) for part in (info.get("module"), info.get("qualname")) if part)
    return _join(where, str(info.get("description") or "")) or None


def _clean(text: str) -> str:
    """Normalise newlines and drop control characters and lone surrogates that break both tools."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


# -- Mermaid -----------------------------------------------------------------------------------------

# Mermaid reads '#name;' as an entity, splits on '"', treats '<', '>' and '&' as HTML, '\n' as a line
# break and '%%{' as a directive: each of those characters becomes a numeric entity ('#35;').
_MERMAID_ESCAPES = {char: f"#{ord(char)};" for char in '#"<>&;%`\\'}
_MERMAID_SHAPES = {
    "start": '(["{}"])',
    "end": '(["{}"])',
    "note": '["{}"]',
    "fork": '{{{{"{}"}}}}',
    "join": '(("{}"))',
    "decision": '{{"{}"}}',
}


def _mermaid_text(text: str) -> str:
    escaped = "".join(_MERMAID_ESCAPES.get(char, char) for char in _clean(text))
    return escaped.replace("\n", "<br/>") or " "


def to_mermaid(
    c: CadenceLike, *, direction: str = "TD", theme: str | None = None, statuses: Statuses | None = None
) -> str:
    """A Mermaid ``flowchart`` of the cadence, children expanded as subgraphs.

    Args:
        statuses: a run's state by node id, ``{"status": "done", "duration": 0.012, "attempts": 2,
            "fallback": True}`` (every key optional): nodes are coloured by status and get a run
            line, ``12 ms ↻2 ↪`` (the duration, then :func:`run_marks`).

    Raises:
        ValueError: ``direction`` or ``theme`` is not one Mermaid knows.
    """
    _check_choice("direction", direction, _MERMAID_DIRECTIONS)
    if theme is not None:
        _check_choice("Mermaid theme", theme, _MERMAID_THEMES)
    root, graph_edges = _Builder(statuses).build(_describe(c))
    lines = [f"%%{{init: {{'theme': '{theme}'}}}}%%"] if theme else []
    lines.append(f"flowchart {direction}")
    styling: list[str] = []  # class and style lines go last, after every node exists
    used: set[str] = set()

    def emit(cluster: _Cluster, indent: str) -> None:
        for item in cluster.items:
            if isinstance(item, _Node):
                lines.append(
                    f"{indent}{item.id}{_MERMAID_SHAPES[item.shape].format(_mermaid_text(item.label))}"
                )
                if item.status:
                    styling.append(f"class {item.id} {item.status}")
                    used.add(item.status)
            else:
                lines.append(f'{indent}subgraph {item.id}["{_mermaid_text(item.title)}"]')
                emit(item, indent + "  ")
                lines.append(f"{indent}end")
                if item.status:
                    fill, stroke = _STATUS_COLOURS[item.status]
                    styling.append(f"style {item.id} fill:{fill},stroke:{stroke},color:#111827")

    emit(root, "  ")
    for source, target, label in graph_edges:
        lines.append(f"  {source} -->|{label}| {target}" if label else f"  {source} --> {target}")
    for status, (fill, stroke) in _STATUS_COLOURS.items():
        if status in used:
            dashed = ",stroke-dasharray:4 3" if status == "skipped" else ""
            lines.append(f"  classDef {status} fill:{fill},stroke:{stroke},color:#111827{dashed}")
    lines.extend(f"  {line}" for line in styling)
    return "\n".join(lines) + "\n"


# -- DOT ---------------------------------------------------------------------------------------------

_FONT = "Helvetica,Arial,sans-serif"
_DOT_SHAPES = {
    "start": 'shape=oval, style="filled,bold"',
    "end": 'shape=oval, style="filled", peripheries=2',
    "note": 'shape=box, style="rounded,filled"',
    "fork": 'shape=hexagon, style="filled"',
    "join": 'shape=point, width=0.12, style="filled", fillcolor="#374151"',
    "decision": 'shape=diamond, style="filled"',
}


def _dot_text(text: str) -> str:
    """A quoted DOT string; '&' too, because Graphviz decodes HTML entities in plain labels."""
    text = _clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return '"' + text.replace("\n", "\\n") + '"'


def to_dot(
    c: CadenceLike, *, rankdir: str = "TB", statuses: Statuses | None = None, **graph_attrs: object
) -> str:
    """A Graphviz ``digraph`` of the cadence; sync, split, child and sequence measures are clusters.

    Args:
        statuses: a run's state by node id, as for :func:`to_mermaid`.
        graph_attrs: extra graph attributes, e.g. ``bgcolor="transparent"``.

    Raises:
        ValueError: ``rankdir`` is unknown or an attribute name is not a plain identifier.
    """
    _check_choice("rankdir", rankdir, _DOT_RANKDIRS)
    for key in graph_attrs:
        if not _DOT_ID.fullmatch(key):
            msg = f"graph attribute name {key!r} is not a DOT identifier; use letters, digits and '_'"
            raise ValueError(msg)
    root, graph_edges = _Builder(statuses).build(_describe(c))
    attrs = {"rankdir": rankdir, "label": root.title, "labelloc": "t", "fontname": _FONT}
    attrs.update({key: str(value) for key, value in graph_attrs.items()})
    lines = ["digraph cadence {"]
    lines += [f"  {key}={_dot_text(value)};" for key, value in attrs.items()]
    lines.append(f'  node [fontname="{_FONT}", fontsize=11, fillcolor="white"];')
    lines.append(f'  edge [fontname="{_FONT}", fontsize=10];')

    def emit(cluster: _Cluster, indent: str) -> None:
        for item in cluster.items:
            if isinstance(item, _Node):
                extra = f", tooltip={_dot_text(item.tooltip)}" if item.tooltip else ""
                if item.status:
                    fill, stroke = _STATUS_COLOURS[item.status]
                    extra += f', fillcolor="{fill}", color="{stroke}"'
                    extra += ", penwidth=2" if item.status in ("running", "failed") else ""
                label = _dot_text(item.label) if item.shape != "join" else '""'
                lines.append(f"{indent}{item.id} [label={label}, {_DOT_SHAPES[item.shape]}{extra}];")
            else:
                fill, stroke = _STATUS_COLOURS.get(item.status or "", ("", "#9ca3af"))
                style = '"rounded,filled"' if fill else '"rounded,dashed"'
                lines.append(f"{indent}subgraph cluster_{item.id} {{")
                lines.append(f"{indent}  label={_dot_text(item.title)}; labeljust=l; fontsize=11;")
                lines.append(f'{indent}  style={style}; color="{stroke}"; fillcolor="{fill or "white"}";')
                emit(item, indent + "  ")
                lines.append(f"{indent}}}")

    emit(root, "  ")
    for source, target, label in graph_edges:
        lines.append(f"  {source} -> {target}" + (f" [label={_dot_text(label)}];" if label else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- rendering and files -----------------------------------------------------------------------------


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


# -- text --------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return _clean(text).replace("\n", "⏎")


def _text_line(measure: Mapping[str, Any]) -> str:
    name = _one_line(_name(measure))
    kind = measure.get("kind")
    if kind == "note":
        badges = _badges(measure.get("note") or {})
        return f"{name}  note" + (f"  {badges}" if badges else "")
    if kind == "sync":
        return f"{name}  sync (merge: {measure.get('merge_strategy')})"
    if kind == "split":
        parallel = ", parallel" if measure.get("parallel") else ""
        return f"{name}  split on {(measure.get('condition') or {}).get('name')}(){parallel}"
    if kind == "branch":
        return name if measure.get("children") else f"{name}  (skip)"
    if kind == "child":
        return f"{name}  child → {measure.get('cadence')} (merge: {(measure.get('merge') or {}).get('name')})"
    return f"{name}  {kind}"


def to_text(c: CadenceLike) -> str:
    """An indented tree of the cadence's measures with their kinds and resilience badges."""
    desc = _describe(c)
    score = f" (score: {desc['score_type']})" if desc.get("score_type") else ""
    lines = [f"{_one_line(_name(desc))}  cadence{score}"]

    def walk(measures: list[Mapping[str, Any]], prefix: str) -> None:
        for index, measure in enumerate(measures):
            last = index == len(measures) - 1
            lines.append(f"{prefix}{'└─' if last else '├─'} {_text_line(measure)}")
            walk(measure.get("children") or [], prefix + ("   " if last else "│  "))

    walk(desc.get("children") or [], "")
    return "\n".join(lines) + "\n"


def print_cadence(c: CadenceLike, file: IO[str] | None = None) -> None:
    """Print :func:`to_text` of the cadence to ``file`` (standard output by default)."""
    (file or sys.stdout).write(to_text(c))
