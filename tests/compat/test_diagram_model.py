"""`cadence.diagram`: the node model of a drawn diagram (`DiagramNode`, `MeasureShape`), built from
`describe()`, lets a user write a renderer of their own."""

from __future__ import annotations

from dataclasses import dataclass

from cadence import Cadence, Score
from cadence.diagram import DiagramCluster, DiagramNode, MeasureShape, diagram_graph


@dataclass
class Order(Score):
    total: int = 0


def load(order: Order) -> None:
    order.total = 10


def tag_a(order: Order) -> None: ...


def tag_b(order: Order) -> None: ...


def is_big(order: Order) -> bool:
    return order.total > 5


def express(order: Order) -> None: ...


def flow() -> Cadence[Order]:
    return (
        Cadence("checkout", Order())
        .then("load", load)
        .sync("tags", [tag_a, tag_b])
        .split("route", is_big, express)
    )


def render_outline(cluster: DiagramCluster, depth: int = 0) -> list[str]:
    """A tiny user renderer: one line per node and cluster, indented by nesting."""
    lines: list[str] = []
    for item in cluster.items:
        if isinstance(item, DiagramNode):
            lines.append(f"{'  ' * depth}[{item.shape}] {item.label.splitlines()[0] if item.label else ''}")
        else:
            lines.append(f"{'  ' * depth}<{item.title}>")
            lines.extend(render_outline(item, depth + 1))
    return lines


def test_a_user_renderer_draws_the_cadence_from_the_public_model() -> None:
    """The root cluster, nested clusters and nodes come from `describe()` with their shapes."""
    root, edges = diagram_graph(flow())
    assert render_outline(root) == [
        "[start] ▶ checkout",
        "[note] load",
        "<tags · sync>",
        "  [fork] ⇉ tags",
        "  [note] tag_a",
        "  [note] tag_b",
        "  [join] ",
        "<route · split>",
        "  [decision] route",
        "  [note] express",
        "  [join] ",
        "[end] end",
    ]
    shapes = [node.shape for node in root.nodes()]
    assert all(isinstance(shape, MeasureShape) for shape in shapes)
    assert shapes.count(MeasureShape.NOTE) == 4
    ids = {node.id for node in root.nodes()}
    assert all(source in ids and target in ids for source, target, _ in edges)
    labels = {label for _, _, label in edges if label}
    assert labels == {"true", "false"}


def test_the_model_is_built_from_describe_and_carries_statuses() -> None:
    """A described dict gives the same graph; statuses given by node id colour the nodes."""
    described = flow().describe()
    root, _ = diagram_graph(described, statuses={"checkout/load": {"status": "done", "duration": 0.01}})
    load_node = next(n for n in root.nodes() if n.label.startswith("load"))
    assert load_node.status == "done"
    assert "10 ms" in load_node.label
    assert MeasureShape.NOTE == "note"
