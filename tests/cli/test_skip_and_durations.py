"""`cadence-studio run`: a skip says why, and every duration is in the one style the studio uses."""

from __future__ import annotations

import re
from pathlib import Path

from cadence.diagram import format_duration
from tests.cli.test_studio_cli import ROOT, studio

SHOP = ROOT / "examples" / "shop.py"

# format_duration's style: 45 µs, 12 ms, 1.23 s, 2 min 3 s, 1 h 5 min.
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?(?:µs|ms|s|min|h)\b")


def test_skip_reason_is_printed(tmp_path: Path) -> None:
    """An empty cart: load_cart raises Skip, and the run's output gives the reason."""
    done = studio(
        "run", f"{SHOP}:create_checkout_cadence", "--arg", "cart_id=c-empty", "--cwd", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "· checkout/load_cart skipped: cart 'c-empty' is empty; nothing to check out" in done.stdout
    assert "run skipped in " in done.stdout
    assert "✗" not in done.stdout  # a skip is not a failure


def test_durations_are_in_one_style(tmp_path: Path) -> None:
    """Every duration printed by a run is written as format_duration writes it."""
    done = studio("run", f"{SHOP}:checkout", "--cwd", str(tmp_path))
    assert done.returncode == 0, done.stderr
    found = DURATION.findall(done.stdout)
    assert len(found) > 10
    styled = {format_duration(s / 1e6) for s in range(1000)} | {format_duration(s / 1e3) for s in range(1000)}
    styled |= {format_duration(s / 100) for s in range(100, 6000)}
    odd = [d for d in found if d not in styled]
    assert not odd, f"durations not in the one style: {odd}"
