"""`cadence validate` and `cadence diagram`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests._tools.renderers import MermaidRenderer, run_dot
from tests.templates._run import cadence as run_cadence

ROOT = Path(__file__).resolve().parents[2]

FLAWED = """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def one(s):
        s.n = 1

    def two_args(s, extra):
        pass

    def bad_merge(parent):
        pass

    def bad_strategy(original, snapshots):
        return {}

    inner = Cadence("inner", S()).then("one", one)
    empty = Cadence("empty", S())
    dupes = Cadence("dupes", S()).then("step", one).then("step", one)
    lonely = Cadence("lonely", S()).sync("fan", [one])
    merges = (
        Cadence("merges", S())
        .child("sub", inner, bad_merge)
        .sync("fan", [one, one], merge_strategy=bad_strategy)
        .then("greedy", two_args)
    )
"""


def cadence(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_cadence(*args, cwd=cwd)


def test_validate_a_good_module_exits_zero() -> None:
    """examples/shop.py has no findings."""
    done = cadence("validate", "examples/shop.py")
    assert done.returncode == 0, done.stderr
    assert "0 error(s), 0 warning(s)" in done.stdout


def test_validate_finds_each_mistake(tmp_path: Path) -> None:
    """Empty cadences, duplicate ids, wrong arities are errors (exit 1); a one-task .sync is a warning."""
    (tmp_path / "flawed.py").write_text(textwrap.dedent(FLAWED))
    done = cadence("validate", "flawed.py", "--json", cwd=tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    messages = {name: [f["message"] for f in fs] for name, fs in report["cadences"].items()}
    assert any("no measures" in m for m in messages["empty"])
    assert any("share the name 'step' (ids 'dupes/step', 'dupes/step#2')" in m for m in messages["dupes"])
    assert [f["level"] for f in report["cadences"]["lonely"]] == ["warning"]
    assert any("(parent_score, child_score)" in m for m in messages["merges"])
    assert any("(original, snapshots, changes)" in m for m in messages["merges"])
    assert any("two_args cannot be called with the score alone" in m for m in messages["merges"])
    only_warnings = cadence("validate", "flawed.py:lonely", cwd=tmp_path)
    assert only_warnings.returncode == 0
    assert "warning: lonely/fan" in only_warnings.stdout


FACTORIES = """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0

    def one(s):
        s.n = 1

    def two_args(s, extra):
        pass

    good = Cadence("good", S()).then("one", one)

    def make(user_id: str, tier: str = "gold", *rest: str, **more: str) -> Cadence[S]:
        return Cadence("made", S()).then("one", one)

    def flawed(tier: str = "gold") -> Cadence[S]:
        return Cadence("flawed", S()).then("greedy", two_args)

    def broken(tier: str = "gold") -> Cadence[S]:
        raise ValueError("no tier table")
"""


def test_validate_reports_a_factory_needing_arguments_and_checks_the_rest(tmp_path: Path) -> None:
    """A factory whose parameters lack defaults is a warning naming them ("not validated"); every other
    cadence and factory is still checked (a factory that raises is an error); exit 0 with warnings only."""
    (tmp_path / "factories.py").write_text(textwrap.dedent(FACTORIES))
    done = cadence("validate", "factories.py", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["not_validated"] == ["make"]
    assert report["cadences"]["good"] == []
    assert report["cadences"]["make"] == [
        {
            "level": "warning",
            "where": "make",
            "message": "not validated: make() needs arguments (user_id); give them defaults, "
            "or validate the cadence it builds (a module-level cadence)",
        }
    ]
    assert "two_args cannot be called with the score alone" in report["cadences"]["flawed"][0]["message"]
    assert report["cadences"]["broken"][0]["message"] == (
        "calling broken() with its defaults raised ValueError: no tier table"
    )
    assert (report["errors"], report["warnings"]) == (2, 1)
    alone = cadence("validate", "factories.py:make", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.splitlines()[0] == "- make  (not validated)"
    assert "0 error(s), 1 warning(s)" in alone.stdout
    helped = cadence("validate", "--help")
    assert "not validated" in helped.stdout


def test_validate_names_missing_attributes_and_modules(tmp_path: Path) -> None:
    """A missing name or module is an error on stderr with a suggestion."""
    (tmp_path / "flawed.py").write_text(textwrap.dedent(FLAWED))
    missing = cadence("validate", "flawed.py:dupez", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no Cadence named 'dupez'" in missing.stderr
    assert "try 'flawed.py:dupes'" in missing.stderr
    nomodule = cadence("validate", "no_such_module_here", cwd=tmp_path)
    assert nomodule.returncode == 2
    assert "no module named 'no_such_module_here'" in nomodule.stderr


def test_diagram_text_formats_pass_the_real_renderers(mermaid: MermaidRenderer) -> None:
    """Mermaid (default) and DOT on stdout are valid for the real tools."""
    mmd = cadence("diagram", "examples/shop.py:checkout")
    assert mmd.returncode == 0, mmd.stderr
    mermaid.render(mmd.stdout)
    dot = cadence("diagram", "examples/shop.py:checkout", "-f", "dot")
    assert dot.returncode == 0, dot.stderr
    run_dot(dot.stdout)
    text = cadence("diagram", "examples/shop.py:checkout", "-f", "text")
    assert "├─ enrich  sync (merge: smart_merge)" in text.stdout


def test_diagram_to_files_by_extension(tmp_path: Path) -> None:
    """-o picks the format from the extension: SVG and PNG through Graphviz."""
    for name, magic in (("c.svg", b"<svg"), ("c.png", b"\x89PNG")):
        done = cadence("diagram", "examples/shop.py:checkout", "-o", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        assert magic in (tmp_path / name).read_bytes()[:400]
    bad = cadence("diagram", "examples/shop.py:checkout", "-o", str(tmp_path / "c.jpeg"))
    assert bad.returncode == 2
    assert ".svg" in bad.stderr


@pytest.mark.parametrize(("fmt", "name"), [("text", "c.txt"), ("mermaid", "c.mmd"), ("dot", "c.dot")])
def test_diagram_to_a_symlink_replaces_the_link_not_its_target(tmp_path: Path, fmt: str, name: str) -> None:
    """-o LINK writes atomically (a temporary file renamed over LINK): the link becomes the diagram file,
    the file it pointed to is untouched, and no temporary file is left behind."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    link = tmp_path / name
    link.symlink_to(target)
    done = cadence("diagram", "examples/shop.py:checkout", "-f", fmt, "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "keep me\n"
    assert not link.is_symlink()
    assert "enrich" in link.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "precious.txt"])


def test_version_and_help() -> None:
    """--version prints the version; --help on each command shows examples."""
    assert cadence("--version").stdout.startswith("cadence 0.")
    for command in ("diagram", "validate"):
        helped = cadence(command, "--help")
        assert helped.returncode == 0
        assert "Example" in helped.stdout
