"""`cadence-studio list | run | export`: the headless twins, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests._tools.renderers import MermaidRenderer, run_dot

ROOT = Path(__file__).resolve().parents[2]


def studio(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the examples: `run` records into the project's .cadence/, never the repository's."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_list_shows_cadences_factories_and_measures() -> None:
    """`list` prints each cadence with its measure tree; --json is the catalog."""
    done = studio("list", "examples/shop.py")
    assert done.returncode == 0, done.stderr
    assert "checkout" in done.stdout
    assert "create_checkout_cadence(user_id='u-42', cart_id='c-7')  factory" in done.stdout
    assert "enrich  sync (merge: smart_merge)" in done.stdout
    as_json = json.loads(studio("list", "examples/shop.py", "--json").stdout)
    assert {e["name"] for e in as_json["entries"]} >= {"checkout", "create_checkout_cadence"}
    one = json.loads(studio("list", "examples/shop.py:checkout", "--json").stdout)
    assert [e["name"] for e in one["entries"]] == ["checkout"]
    dotted = studio("list", "examples.shop:checkout")
    assert dotted.returncode == 0, dotted.stderr


def test_run_json_streams_events_and_exits_zero(shop: Path) -> None:
    """`run --json` prints events as JSON lines and the result; exit code 0 on success."""
    done = studio("run", "examples/shop.py:checkout", "--json", cwd=shop)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["kind"] == "run_started"
    assert lines[-1]["type"] == "run_ended"
    assert lines[-1]["status"] == "done"


def test_run_with_args_score_and_breakpoint(shop: Path) -> None:
    """--arg, --score and --break-at: the score at the breakpoint is printed, then the run ends."""
    done = studio(
        "run",
        "examples/shop.py:create_checkout_cadence",
        "--arg",
        "user_id=u-77",
        "--break-at",
        "checkout/pricing/compute_total",
        cwd=shop,
    )
    assert done.returncode == 0, done.stderr
    assert "⏸ paused before checkout/pricing/compute_total" in done.stdout
    assert "user_id = 'u-77'" in done.stdout
    refused = studio("run", "examples/shop.py:checkout", "--score", '{"subtotal": "lots"}', cwd=shop)
    assert refused.returncode == 2
    assert "subtotal" in refused.stderr


def test_failures_exit_non_zero_with_a_message(tmp_path: Path) -> None:
    """A failing run exits 1; an unknown cadence or a broken module exits 2 with the reason."""
    (tmp_path / "fails.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from cadence import Cadence, Score

            @dataclass
            class S(Score):
                n: int = 0

            def boom(s):
                raise ValueError("no stock")

            c = Cadence("c", S()).then("boom", boom)
            """
        )
    )
    failed = studio("run", "fails.py", cwd=tmp_path)
    assert failed.returncode == 1
    assert "no stock" in failed.stderr
    assert "fails.py" in failed.stderr
    missing = studio("run", "fails.py:nope", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no Cadence named 'nope'" in missing.stderr
    (tmp_path / "syntax.py").write_text("x = (\n")
    broken = studio("list", "syntax.py", cwd=tmp_path)
    assert broken.returncode == 2
    assert "never closed" in broken.stderr


@pytest.mark.parametrize("fmt", ["dot", "mermaid", "svg", "png"])
def test_export_every_format(fmt: str, tmp_path: Path, mermaid: MermaidRenderer) -> None:
    """`export` writes each format; DOT and Mermaid pass the real renderers, SVG parses, PNG is a PNG."""
    out = tmp_path / f"checkout.{ {'mermaid': 'mmd'}.get(fmt, fmt) }"
    done = studio("export", "examples/shop.py:checkout", "--format", fmt, "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    if fmt == "dot":
        run_dot(data.decode())
    elif fmt == "mermaid":
        mermaid.render(data.decode())
    elif fmt == "svg":
        assert b"<svg" in data
    else:
        assert data.startswith(b"\x89PNG")


def test_export_with_a_run_carries_statuses(tmp_path: Path) -> None:
    """--with-run colours the diagram by the run's statuses and shows durations."""
    out = tmp_path / "run.dot"
    done = studio("export", "examples/shop.py:checkout", "--with-run", "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert " ms" in text
    run_dot(text)


def test_help_and_bad_arguments() -> None:
    """--help lists the commands with examples; a bad --arg is an error naming the fix."""
    helped = studio("--help")
    assert helped.returncode == 0
    for command in ("list", "run", "export", "open"):
        assert command in helped.stdout
    bad = studio("run", "examples/shop.py:checkout", "--arg", "no-equals")
    assert bad.returncode == 2
    assert "NAME=VALUE" in bad.stderr
