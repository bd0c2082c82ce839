"""Generated code meets the house rules: ruff finds nothing and would not reformat it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cadence_studio import scaffold

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
RULES = ["--select", "E,W,F,I,B,UP,ASYNC,C4,PIE,RUF,PT", "--line-length", "110", "--target-version", "py311"]


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert RUFF is not None
    return subprocess.run([RUFF, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_generated_code_is_ruff_clean(tmp_path: Path) -> None:
    """Every kind, with and without decorators, passes ruff check and ruff format --check."""
    scaffold.init_project(tmp_path, name="shop")
    scaffold.new_note("charge", directory=Path("shop"), root=tmp_path, retry=3, timeout=2, fallback="0")
    scaffold.new_note("tidy", directory=Path("shop"), root=tmp_path, is_async=False, fallback="guest")
    scaffold.new_cadence("refund", directory=Path("shop"), root=tmp_path)
    checked = ruff("check", "--isolated", "--no-cache", *RULES, ".", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = ruff("format", "--isolated", "--no-cache", "--check", *RULES[2:4], ".", cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
