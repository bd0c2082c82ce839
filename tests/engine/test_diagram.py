"""Diagrams: Mermaid and DOT that the real tools accept whatever the names, statuses overlaid, files saved.

Every Mermaid text goes through the real Mermaid in chromium (one browser for the session) and every
DOT text through the real ``dot``, where any warning on stderr fails the test.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cadence import Cadence, CadenceError, Score, circuit_breaker, fallback, note, retry, timeout
from cadence.diagram import print_cadence, render_svg, save_diagram, to_dot, to_mermaid, to_text
from tests._tools.renderers import MermaidRenderer, dot_labels, missing, run_dot

# Each name hits a different escaping rule of Mermaid or DOT.
WEIRD_NAMES = [
    'say "hi"',
    "[brackets] {braces} (parens) |pipes|",
    "two\nlines",
    "ünïcødé 中文 🎉",
    "#hash; semi; <b>bold</b> & amp &amp; &#35;",
    "back\\slash\\",
    "%%{init: {'theme': 'dark'}}%% end",
    "`tick` 'single' --> arrow",
    "x\\ny",
]


@dataclass
class Order(Score):
    total: float = 0.0
    user: str = ""
    cart: str = ""
    label: str = ""
    charged: bool = False


@retry(3)
@timeout(2)
async def validate(order: Order) -> None:
    """Check the order."""


@fallback("guest")
async def fetch_user(order: Order) -> None:
    order.user = "ada"


@circuit_breaker(name="carts")
async def fetch_cart(order: Order) -> None:
    order.cart = "c1"


async def reserve(order: Order) -> None:
    pass


async def price(order: Order) -> None:
    order.total = 120.0


def is_big(order: Order) -> bool:
    return order.total > 100


async def charge(order: Order) -> None:
    order.charged = True


async def print_label(order: Order) -> None:
    order.label = "L1"


async def pack(order: Order) -> None:
    pass


def take_label(parent: Order, child: Order) -> None:
    parent.label = child.label


def shop() -> Cadence[Order]:
    """A cadence with every measure kind, and a child cadence that has a child of its own."""
    labels = Cadence("labels", Order()).then("print_label", print_label)
    shipping = Cadence("shipping", Order()).then("pack", pack).child("labels", labels, take_label)
    return (
        Cadence("checkout", Order())
        .then("validate", validate)
        .sequence("prepare", [reserve, price])
        .sync("enrich", [fetch_user, fetch_cart])
        .split("big order", is_big, [charge, pack], None)
        .child("ship", shipping, take_label)
    )


def weird() -> Cadence[Order]:
    """Every measure kind, each named with awkward characters (task names come from the notes)."""
    tasks = [note(name=name)(reserve) for name in WEIRD_NAMES]
    inner = Cadence(WEIRD_NAMES[0], Order()).then(WEIRD_NAMES[1], pack)
    return (
        Cadence(WEIRD_NAMES[6], Order())
        .then(WEIRD_NAMES[2], validate)
        .sequence(WEIRD_NAMES[3], tasks[:3])
        .sync(WEIRD_NAMES[4], tasks[3:6])
        .split(WEIRD_NAMES[5], is_big, tasks[6:], tasks[:1])
        .child(WEIRD_NAMES[7], inner, take_label)
        .then(WEIRD_NAMES[8], pack)
    )


EDGE = re.compile(r"^ *(n\d+) -->(?:\|(\w+)\|)? (n\d+)$", flags=re.MULTILINE)
NODE = re.compile(r'^ *(n\d+)[\[({]+"([^"\n]*)"', flags=re.MULTILINE)
# Every line after "flowchart": a node with a quoted label, a subgraph, an edge, or styling; ids are ours.
LINE = re.compile(r' *(n\d+[\[({]+"|subgraph s\d+\["|end$|n\d+ -->|classDef |class n\d+ |style s\d+ )')


def edges(text: str) -> set[tuple[str, str, str | None]]:
    """The ``(source, target, label)`` edges of our Mermaid output."""
    return {(source, target, label or None) for source, label, target in EDGE.findall(text)}


def node_ids(text: str) -> dict[str, str]:
    """Mermaid node id by its (escaped) label text."""
    return {label: node for node, label in NODE.findall(text)}


def test_every_measure_kind_in_mermaid(mermaid: MermaidRenderer) -> None:
    """Start, notes, sequence, fork/join of a sync, decision of a split and child subgraphs, in order."""
    text = to_mermaid(shop())
    rendered = mermaid.render(text)
    assert text.startswith("flowchart TD\n")
    for label in ["▶ checkout", "validate\n↻3 ◷2s", "reserve", "price", "⇉ enrich\nmerge: fail_on_conflict"]:
        assert label in rendered.labels
    assert "big order\nis_big?" in rendered.labels
    assert "ship ⟶ shipping · merge: take_label" in rendered.labels
    assert "labels ⟶ labels · merge: take_label" in rendered.labels
    ids = node_ids(text)
    graph = edges(text)
    chain = ["▶ checkout", "validate<br/>↻3 ◷2s", "reserve", "price", "⇉ enrich<br/>merge: fail_on_conflict"]
    for source, target in itertools.pairwise(chain):
        assert (ids[source], ids[target], None) in graph
    assert (ids["print_label"], ids["end"], None) in graph
    decision = ids["big order<br/>is_big?"]
    assert (decision, ids["charge"], "true") in graph
    assert sum(1 for source, _, label in graph if source == decision and label == "false") == 1


def test_empty_branch_goes_straight_to_the_join(mermaid: MermaidRenderer) -> None:
    """A branch without notes is one edge from the decision to the join the other branch reaches."""
    for if_true, if_false, empty in (([charge], None, "false"), ([], [charge], "true")):
        text = to_mermaid(Cadence("gate", Order()).split("big", is_big, if_true, if_false).then("pack", pack))
        mermaid.render(text)
        ids, graph = node_ids(text), edges(text)
        decision, charge_id = ids["big<br/>is_big?"], ids["charge"]
        (join,) = [target for source, target, _ in graph if source == charge_id]
        assert (decision, join, empty) in graph
        assert (join, ids["pack"], None) in graph
    text = to_mermaid(Cadence("gate", Order()).split("big", is_big, [], []))
    mermaid.render(text)
    assert {label for _, _, label in edges(text)} == {"true", "false", None}


def test_children_are_nested_subgraphs(mermaid: MermaidRenderer) -> None:
    """A child inside a child is a subgraph inside the first child's subgraph."""
    text = to_mermaid(shop())
    mermaid.render(text)
    lines = text.splitlines()
    outer = next(i for i, line in enumerate(lines) if "ship ⟶ shipping" in line)
    inner = next(i for i, line in enumerate(lines) if "labels ⟶ labels" in line)
    indent = len(lines[outer]) - len(lines[outer].lstrip())
    closing = next(i for i in range(outer + 1, len(lines)) if lines[i] == " " * indent + "end")
    assert outer < inner < closing
    assert lines[inner].startswith(" " * (indent + 2) + "subgraph ")
    assert "print_label" in "\n".join(lines[inner:closing])


def test_every_measure_kind_in_dot() -> None:
    """One digraph: a cluster per sequence, sync, split and child (nested), every label as written."""
    source = to_dot(shop())
    labels = dot_labels(run_dot(source))
    assert source.startswith("digraph cadence {")
    clusters = {name: lines for name, lines in labels.items() if name.startswith("cluster_")}
    titles = [lines[0] for lines in clusters.values()]
    assert titles == [
        "prepare · sequence",
        "enrich · sync",
        "big order · split",
        "ship ⟶ shipping · merge: take_label",
        "labels ⟶ labels · merge: take_label",
    ]
    nodes = [lines for name, lines in labels.items() if not name.startswith("cluster_")]
    assert ["validate", "↻3 ◷2s"] in nodes
    assert ["big order", "is_big?"] in nodes


@pytest.mark.parametrize("name", WEIRD_NAMES)
def test_weird_names_render_literally(name: str, mermaid: MermaidRenderer) -> None:
    """Quotes, brackets, newlines, entities and unicode reach the picture unchanged, in both tools."""
    cadence = Cadence(name, Order()).then(name, pack).sync(name + "!", [note(name=name)(pack)])
    rendered = mermaid.render(to_mermaid(cadence))
    assert name in rendered.labels
    assert f"▶ {name}" in rendered.labels
    svg_labels = dot_labels(run_dot(to_dot(cadence)))
    assert name.split("\n") in svg_labels.values()


def test_awkward_names_everywhere(mermaid: MermaidRenderer) -> None:
    """A cadence whose every measure, task and child has an awkward name is valid for both tools."""
    cadence = weird()
    text = to_mermaid(cadence)
    rendered = mermaid.render(text)
    run_dot(to_dot(cadence))
    for name in WEIRD_NAMES:
        assert any(name in label for label in rendered.labels), name
    for line in text.splitlines()[1:]:
        assert LINE.match(line), line


def test_dict_and_cadence_give_the_same_diagram(mermaid: MermaidRenderer) -> None:
    """A described dict is drawn like the cadence it describes."""
    cadence = shop()
    assert to_mermaid(cadence.describe()) == to_mermaid(cadence)
    assert to_dot(cadence.describe()) == to_dot(cadence)
    assert to_text(cadence.describe()) == to_text(cadence)
    mermaid.render(to_mermaid(cadence))
    run_dot(to_dot(cadence))


def test_empty_containers_are_drawn(mermaid: MermaidRenderer) -> None:
    """Empty sequences, children and unknown container kinds still appear, connected, in both tools."""
    described = {
        "kind": "cadence",
        "name": "hollow",
        "id": "hollow",
        "score_type": None,
        "children": [
            {"kind": "sequence", "name": "nothing", "id": "hollow/nothing", "children": []},
            {
                "kind": "child",
                "name": "c",
                "id": "hollow/c",
                "cadence": "void",
                "merge": None,
                "children": [],
            },
            {"kind": "loop", "name": "future kind", "id": "hollow/future kind", "children": []},
        ],
    }
    text = to_mermaid(described)
    rendered = mermaid.render(text)
    titles = sorted(label for label in rendered.labels if "·" in label or "⟶" in label)
    assert titles == ["c ⟶ void", "future kind · loop", "nothing · sequence"]
    assert rendered.labels.count("(empty)") == 3
    assert len(edges(text)) == 4  # start → three placeholders → end, one chain
    labels = dot_labels(run_dot(to_dot(described)))
    assert sum(1 for name in labels if name.startswith("cluster_")) == 3


STATUSES: dict[str, dict[str, Any]] = {
    "checkout": {"status": "running", "duration": 75.0},
    "checkout/validate": {"status": "done", "duration": 0.012},
    "checkout/prepare": {"status": "done", "duration": 1.5},
    "checkout/enrich": {"status": "running"},
    "checkout/enrich/fetch_user": {"status": "failed", "duration": 0.0004},
    "checkout/big order": {"status": "paused"},
    "checkout/ship": {"status": "skipped"},
    "checkout/ship/pack": {"status": "pending"},
    "checkout/nowhere": {"status": "done", "duration": 9.0},
    "checkout/validate/not-a-node": {"status": "failed"},
}


def test_statuses_colour_mermaid_nodes(mermaid: MermaidRenderer) -> None:
    """Each status has a classDef, nodes get their class, labels show durations, unknown ids do nothing."""
    text = to_mermaid(shop(), statuses=STATUSES)
    rendered = mermaid.render(text)
    ids = node_ids(text)
    assert "validate\n↻3 ◷2s\n12 ms" in rendered.labels
    assert f"class {ids['▶ checkout<br/>1 min 15 s']} running" in text  # the cadence's own status
    assert "prepare · sequence · 1.50 s" in rendered.labels
    assert f"class {ids['validate<br/>↻3 ◷2s<br/>12 ms']} done" in text
    assert f"class {ids['fetch_user<br/>↪<br/>400 µs']} failed" in text
    assert f"class {ids['pack']} pending" in text
    for status in ["done", "running", "failed", "paused", "pending"]:
        assert re.search(rf"^  classDef {status} fill:#[0-9a-f]{{6}}", text, flags=re.MULTILINE), status
    assert re.search(r"^  style s\d+ fill:", text, flags=re.MULTILINE)  # the skipped child subgraph
    assert "9.00 s" not in text
    assert to_mermaid(shop(), statuses={"checkout/nowhere": {"status": "done"}}) == to_mermaid(shop())


def test_statuses_colour_dot_nodes() -> None:
    """DOT nodes get the status fill colour and a duration line; the result is still warning-free."""
    source = to_dot(shop(), statuses=STATUSES)
    labels = dot_labels(run_dot(source))
    assert ["validate", "↻3 ◷2s", "12 ms"] in labels.values()
    assert ["prepare · sequence · 1.50 s"] in labels.values()
    assert source.count('fillcolor="#dcfce7"') >= 2  # done: a node and the sequence cluster
    assert 'fillcolor="#fee2e2"' in source
    assert to_dot(shop(), statuses={"checkout/nowhere": {"status": "done"}}) == to_dot(shop())


def test_unknown_status_shows_duration_without_colour(mermaid: MermaidRenderer) -> None:
    """A status outside the known six is not coloured, and a non-numeric duration is not shown."""
    statuses: dict[str, dict[str, Any]] = {
        "checkout/validate": {"status": "exploded", "duration": 0.2},
        "checkout/ship/pack": {"duration": "x"},
    }
    text = to_mermaid(shop(), statuses=statuses)
    assert "classDef" not in text
    assert "validate\n↻3 ◷2s\n200 ms" in mermaid.render(text).labels
    run_dot(to_dot(shop(), statuses=statuses))


@pytest.mark.parametrize(("theme", "direction"), [("dark", "LR"), ("forest", "BT"), ("neutral", "RL")])
def test_theme_and_direction(theme: str, direction: str, mermaid: MermaidRenderer) -> None:
    """A theme adds an init directive before the flowchart line."""
    text = to_mermaid(shop(), theme=theme, direction=direction, statuses=STATUSES)
    mermaid.render(text)
    assert text.startswith(f"%%{{init: {{'theme': '{theme}'}}}}%%\nflowchart {direction}\n")


def test_bad_mermaid_options_are_refused() -> None:
    """An unknown theme or direction is a ValueError naming the accepted ones."""
    with pytest.raises(ValueError, match="use one of default, neutral"):
        to_mermaid(shop(), theme="sparkly")
    with pytest.raises(ValueError, match="use one of TD"):
        to_mermaid(shop(), direction="up")


def test_dot_rankdir_and_graph_attributes() -> None:
    """rankdir and extra graph attributes land in the graph, escaped."""
    source = to_dot(shop(), rankdir="LR", bgcolor="transparent", comment='say "hi"')
    run_dot(source)
    assert 'rankdir="LR";' in source
    assert 'bgcolor="transparent";' in source
    assert 'comment="say \\"hi\\"";' in source
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(shop(), rankdir="sideways")


def test_render_svg_with_dot() -> None:
    """render_svg returns SVG text from the real dot, with statuses too."""
    for statuses in (None, STATUSES):
        svg = render_svg(weird(), statuses=statuses)
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"


def test_render_svg_without_dot_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without Graphviz, the error says how to install it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CadenceError, match="apt-get install graphviz"):
        render_svg(shop())
    with pytest.raises(RuntimeError, match="brew install graphviz"):
        save_diagram(shop(), tmp_path / "shop.png")
    assert list(tmp_path.iterdir()) == []


def test_render_svg_mermaid_without_mmdc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without mmdc, the error points to the Mermaid CLI or format="dot"."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CadenceError, match=r"@mermaid-js/mermaid-cli.*format=\"dot\""):
        render_svg(shop(), format="mermaid")
    with pytest.raises(ValueError, match="format='dot'"):
        render_svg(shop(), format="png")


# Stands in for `mmdc -q -i IN -o OUT`: the first line of IN inside an SVG, or an error when $FAIL is set.
FAKE_MMDC = """#!/bin/sh
[ "$FAIL" ] && { echo "Parse error on line 2" >&2; exit 1; }
printf '<svg xmlns="http://www.w3.org/2000/svg"><desc>%s</desc></svg>' "$(head -n 1 "$3")" > "$5"
"""


def test_render_svg_mermaid_runs_mmdc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With mmdc on PATH, render_svg hands it the Mermaid text and returns its SVG, or its error."""
    mmdc = tmp_path / "mmdc"
    mmdc.write_text(FAKE_MMDC, encoding="utf-8")
    mmdc.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    svg = ET.fromstring(render_svg(shop(), format="mermaid"))
    assert svg.findtext("{http://www.w3.org/2000/svg}desc") == "flowchart TD"
    monkeypatch.setenv("FAIL", "1")
    with pytest.raises(CadenceError, match="Parse error on line 2"):
        render_svg(shop(), format="mermaid")


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("suffix", [".mmd", ".mermaid", ".dot", ".gv", ".svg", ".png", ".pdf", ".SVG"])
def test_save_diagram_by_extension(suffix: str, tmp_path: Path, mermaid: MermaidRenderer) -> None:
    """The extension picks the format; text formats are valid, images are what they claim to be."""
    path = save_diagram(weird(), tmp_path / f"weird{suffix}", statuses=STATUSES)
    assert path == tmp_path / f"weird{suffix}"
    data = path.read_bytes()
    kind = suffix.lower()
    if kind in (".mmd", ".mermaid"):
        mermaid.render(data.decode("utf-8"))
    elif kind in (".dot", ".gv"):
        run_dot(data.decode("utf-8"))
    elif kind == ".svg":
        assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
    elif kind == ".png":
        assert data.startswith(PNG_MAGIC)
    else:
        assert data.startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_save_diagram_format_overrides_extension(tmp_path: Path, mermaid: MermaidRenderer) -> None:
    """format= wins over the extension, and a str path works."""
    path = save_diagram(shop(), str(tmp_path / "shop.txt"), format="mermaid")
    mermaid.render(path.read_text(encoding="utf-8"))
    plain = tmp_path / "plain"
    plain.write_text("", encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)  # umask, not 0600
    assert save_diagram(shop(), tmp_path / "shop.out", format="png").read_bytes().startswith(PNG_MAGIC)


def test_save_diagram_text_replaces_a_symlink(tmp_path: Path) -> None:
    """format="text" writes to_text() atomically: a symlink at the path is replaced, its target kept."""
    target = tmp_path / "target.txt"
    target.write_text("keep\n", encoding="utf-8")
    (tmp_path / "shop.txt").symlink_to(target)
    path = save_diagram(shop(), tmp_path / "shop.txt", format="text")
    assert path.read_text(encoding="utf-8") == to_text(shop())
    assert not path.is_symlink()
    assert target.read_text(encoding="utf-8") == "keep\n"


@pytest.mark.parametrize("name", ["shop.txt", "shop", "shop.jpeg"])
def test_save_diagram_unknown_extension(name: str, tmp_path: Path) -> None:
    """An unknown extension is a ValueError listing the accepted ones, and nothing is written."""
    with pytest.raises(ValueError, match=r"\.mmd, \.mermaid, \.dot, \.gv, \.svg, \.png, \.pdf") as info:
        save_diagram(shop(), tmp_path / name)
    assert name in str(info.value)
    with pytest.raises(ValueError, match="mermaid, dot, svg, png, pdf"):
        save_diagram(shop(), tmp_path / "shop.svg", format="jpeg")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_keeps_the_old_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Writing is atomic: when dot is missing the existing file is untouched and no temp file remains."""
    target = tmp_path / "shop.svg"
    target.write_text("old", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(CadenceError):
        save_diagram(shop(), target)
    assert target.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [target]


EXPECTED_TREE = f"""\
checkout  cadence (score: {Order.__module__}.Order)
├─ validate  note  ↻3 ◷2s
├─ prepare  sequence
│  ├─ reserve  note
│  └─ price  note
├─ enrich  sync (merge: fail_on_conflict)
│  ├─ fetch_user  note  ↪
│  └─ fetch_cart  note  ⚡carts
├─ big order  split on is_big()
│  ├─ true
│  │  ├─ charge  note
│  │  └─ pack  note
│  └─ false  (skip)
└─ ship  child → shipping (merge: take_label)
   ├─ pack  note
   └─ labels  child → labels (merge: take_label)
      └─ print_label  note
"""


def test_text_tree() -> None:
    """to_text draws the measures as a box-drawing tree with kinds and badges."""
    assert to_text(shop()) == EXPECTED_TREE


def test_print_cadence(capsys: pytest.CaptureFixture[str]) -> None:
    """print_cadence writes the tree to stdout, or to the file given; newlines in names stay on one line."""
    print_cadence(shop())
    assert capsys.readouterr().out == EXPECTED_TREE
    buffer = io.StringIO()
    print_cadence(Cadence("a\nb", Order()).then("c", pack), file=buffer)
    assert buffer.getvalue().splitlines()[0].startswith("a⏎b  cadence")


def test_missing_tool_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test helpers skip when a renderer is missing, except under CI=true where they fail."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool"):
        missing("no-such-tool is not on PATH")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing("no-such-tool is not on PATH")
