"""No engine module grows past ~500 lines: past that, split it by responsibility (STYLE.md)."""

from __future__ import annotations

from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine" / "cadence"
MAX_LINES = 500


def test_no_engine_module_is_past_500_lines() -> None:
    """Every module of `cadence`, sub-packages included, has at most 500 lines."""
    sizes = {p.relative_to(ENGINE).as_posix(): len(p.read_text().splitlines()) for p in ENGINE.rglob("*.py")}
    assert sizes, f"no modules found under {ENGINE}"
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
