"""`cadence-studio history --temporal`, `history show ID --temporal` and `replay`, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.temporal.conftest import free_port
from tests.temporal.read.conftest import ShopRun

ROOT = Path(__file__).resolve().parents[3]


def studio(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_history_temporal_lists_the_run(shop_run: ShopRun, tmp_path: Path) -> None:
    """The server's cadence runs in the local list's columns: the workflow id, cadence and status."""
    done = studio("history", "--temporal", shop_run.address, "--cwd", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(shop_run.workflow_id)]
    assert "  temporal:checkout  done  " in line
    assert f"{shop_run.workflow_id}/payment" not in done.stdout  # a child shows inside its parent


def test_history_show_temporal_prints_it_like_a_local_run(shop_run: ShopRun, tmp_path: Path) -> None:
    """Every note with `history show`'s glyphs, the child's notes indented, the retry, the timeout and
    its fallback, then the final score."""
    wid, address = shop_run.workflow_id, shop_run.address
    done = studio("history", "show", wid, "--temporal", address, "--cwd", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "✓ checkout/load_cart" in out
    assert "◇ checkout/risk_review → false (condition: False)" in out
    assert "! timed out at checkout/pricing/quote_shipping" in out
    assert "! fallback used at checkout/pricing/quote_shipping" in out
    assert (
        "  ↻ checkout/payment/authorize_payment attempt 1/3 failed: "
        "gateway dropped the authorisation of 'ord-u-42-c-7'"
    ) in out
    assert "  ✓ checkout/payment/issue_receipt" in out
    assert "run done in" in out
    assert "  shipping = 3900" in out
    assert "  status = 'completed'" in out


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    """Nobody at the address: one line naming it and what to check, exit 2 (list and show alike)."""
    address = f"127.0.0.1:{free_port()}"
    for args in (("history",), ("history", "show", "checkout-0")):
        done = studio(*args, "--temporal", address, "--cwd", str(tmp_path))
        assert done.returncode == 2, done
        assert done.stderr.startswith(f"error: no Temporal server answers at {address}"), done.stderr
        assert "temporal server start-dev" in done.stderr
        assert done.stdout == ""


def test_an_unknown_workflow_is_a_clear_error(shop_run: ShopRun, tmp_path: Path) -> None:
    """No such workflow on the server: one line naming it and how to list the runs, exit 2 (no traceback)."""
    done = studio("history", "show", "checkout-nope", "--temporal", shop_run.address, "--cwd", str(tmp_path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(
        f"error: no workflow 'checkout-nope' on the Temporal server at {shop_run.address}"
    )
    assert f"`cadence-studio history --temporal {shop_run.address}` lists the cadence runs" in done.stderr
    assert "Traceback" not in done.stderr


def test_replay_of_an_unchanged_cadence_is_clean(shop_run: ShopRun) -> None:
    """The exported history opens offline and replays against examples/shop.py as it is: exit 0."""
    done = studio("replay", str(shop_run.exported), "examples/shop.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "◇ checkout/risk_review → false" in done.stdout  # printed like `history show`
    assert done.stdout.rstrip().endswith("replay: the history replays cleanly against the current code")


def test_replay_after_swapping_two_notes_names_the_note(shop_run: ShopRun, tmp_path: Path) -> None:
    """A copy of the module with two notes of `pricing` swapped: the replay names where they part, exit 1."""
    source = (ROOT / "examples" / "shop.py").read_text()
    before = '.sequence("pricing", [compute_subtotal, apply_discounts, quote_shipping, compute_total])'
    after = '.sequence("pricing", [apply_discounts, compute_subtotal, quote_shipping, compute_total])'
    assert before in source
    (tmp_path / "shop.py").write_text(source.replace(before, after))
    done = studio("replay", str(shop_run.exported), "shop.py", "--cwd", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith(
        "replay: non-determinism: the history ran checkout/pricing/compute_subtotal "
        "where the current code runs checkout/pricing/apply_discounts"
    )


def test_replay_of_a_file_that_is_no_history_exits_2(tmp_path: Path) -> None:
    """Not JSON, or no file: a message naming the file and the problem, exit 2."""
    bad = tmp_path / "run.json"
    bad.write_text("<html>not a history</html>")
    done = studio("replay", str(bad), "examples/shop.py")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {bad}: ")
    assert "a workflow history must be JSON" in done.stderr
    assert "temporal workflow show --output json" in done.stderr
    missing = studio("replay", str(tmp_path / "none.json"), "examples/shop.py")
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    assert "No such file" in missing.stderr


def test_the_replay_help_says_the_module_is_imported() -> None:
    """--help warns that TARGET's module is imported (and that no note runs)."""
    done = studio("replay", "--help")
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert "TARGET's module is imported" in flat
