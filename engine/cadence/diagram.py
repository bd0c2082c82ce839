"""Diagrams of a cadence: Mermaid, Graphviz DOT, SVG/PNG/PDF through ``dot``, and a text tree.

Everything is drawn from ``cadence.describe()`` alone, so a described dict works as well as a cadence.
Both text formats are built from one small graph model; node ids are generated (``n0``, ``n1``, ...)
and never derived from names, and every label is escaped for its format.

The machinery lives in :mod:`cadence._diagram` (``model``, ``mermaid``, ``dot``, ``text``, ``files``);
this module is the public face (plus the type aliases ``CadenceLike``, ``Describable`` and ``Statuses``
for annotations).
"""

from __future__ import annotations

from ._diagram.dot import to_dot
from ._diagram.files import render_svg, save_diagram
from ._diagram.mermaid import to_mermaid
from ._diagram.model import Builder, DiagramCluster, DiagramEdge, DiagramNode, MeasureShape, described
from ._diagram.model import CadenceLike as CadenceLike
from ._diagram.model import Describable as Describable
from ._diagram.model import Statuses as Statuses
from ._diagram.text import print_cadence, to_text
from ._labels import badges, format_duration, run_marks
from .exceptions import DiagramError

__all__ = [
    "DiagramCluster",
    "DiagramEdge",
    "DiagramError",
    "DiagramNode",
    "MeasureShape",
    "badges",
    "diagram_graph",
    "format_duration",
    "print_cadence",
    "render_svg",
    "run_marks",
    "save_diagram",
    "to_dot",
    "to_mermaid",
    "to_text",
]


def diagram_graph(
    c: CadenceLike, *, statuses: Statuses | None = None
) -> tuple[DiagramCluster, list[DiagramEdge]]:
    """The graph every diagram here is drawn from, built from ``c.describe()`` (or a described dict).

    Returns the root :class:`DiagramCluster` (the whole cadence; ``root.nodes()`` lists every
    :class:`DiagramNode`) and the edges ``(source id, target id, label or None)`` in drawing order
    (``"true"`` / ``"false"`` out of a ``.split`` decision). ``statuses`` (node id -> ``{"status",
    "duration"}``) colours nodes as a run left them. For writing a renderer of your own.
    """
    return Builder(statuses).build(described(c))
