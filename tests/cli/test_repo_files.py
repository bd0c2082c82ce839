"""The Makefile and the Markdown files a newcomer reads first: `make demo` installs only the studio,
and every relative link or path they show is a file of this repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = sorted(
    p
    for p in ROOT.rglob("*.md")
    if not ({".venv", ".tools", "node_modules", ".git", ".pytest_cache"} & set(p.relative_to(ROOT).parts))
)
# Folders at the top of the repository: a `path` in backticks starting with one is a link to check.
TOP = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"`([^`\s]+)`")


def make_dry_run(target: str, tmp_path: Path) -> str:
    """The commands `make TARGET` would run from scratch (-B), against a venv in ``tmp_path``."""
    assert shutil.which("make"), "make is needed: apt-get install make"
    done = subprocess.run(
        [
            "make",
            "-n",
            "-B",
            "--no-print-directory",
            target,
            f"VENV={tmp_path / 'venv'}",
            f"TOOLS={tmp_path / 'tools'}",
        ],
        cwd=ROOT,
        # Under `make test` the outer make's variables would make this one a sub-make that echoes more.
        env={
            k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEFILES"}
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_demo_installs_only_what_the_studio_needs(tmp_path: Path) -> None:
    """`make demo`: `pip install -e .` (no dev extra, no npm tools), then the studio on the example."""
    commands = make_dry_run("demo", tmp_path)
    assert "pip install -q -e .\n" in commands
    assert "[dev]" not in commands
    assert "npm" not in commands
    assert commands.rstrip().endswith("cadence-studio examples/shop.py")


@pytest.mark.parametrize("target", ["test", "check", "bench"])
def test_make_test_check_bench_keep_the_dev_extra(tmp_path: Path, target: str) -> None:
    """The developer targets install the dev extra (pytest, ruff, mypy...)."""
    assert "pip install -q -e '.[dev]'" in make_dry_run(target, tmp_path)


def links(md: Path) -> list[str]:
    """Relative link targets of ``md``: Markdown links, and `paths` in backticks that start at the repo's
    top (``examples/shop.py``) or with ``./`` / ``../``."""
    text = md.read_text(encoding="utf-8")
    found = [m.group(1) for m in LINK.finditer(text)]
    for span in CODE.findall(text):
        if "$" in span or "://" in span:
            continue
        first = span.split("/", 1)[0]
        if "/" in span and (first in TOP or first in (".", "..")):
            found.append(span)
    return [
        link.split("#", 1)[0]
        for link in found
        if not re.match(r"^[a-z][a-z0-9+.-]*:", link) and not link.startswith("#")
    ]


@pytest.mark.parametrize("md", MARKDOWN, ids=[str(p.relative_to(ROOT)) for p in MARKDOWN])
def test_markdown_links_point_at_files_of_the_repo(md: Path) -> None:
    """Every relative link resolves (from the file's folder or the repo's root) to a path inside the repo."""
    broken = []
    for link in links(md):
        candidates = [(md.parent / link).resolve(), (ROOT / link).resolve()]
        if not any(c.is_relative_to(ROOT) and c.exists() for c in candidates):
            broken.append(link)
    assert broken == [], f"{md.relative_to(ROOT)} links to what is not in the repository: {broken}"


def test_the_link_check_sees_links() -> None:
    """The checker finds the README's paths (so the test above cannot pass by finding nothing)."""
    assert "examples/shop.py" in links(ROOT / "README.md")
    assert "bench/engine.py" in links(ROOT / "bench" / "README.md")
