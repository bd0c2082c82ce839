"""`cadence-studio history provenance RUN FIELD`: the notes that wrote a field (shop example)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP = str(ROOT / "examples" / "shop.py") + ":checkout"


def studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provenance")
    done = studio("run", SHOP, cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def provenance(project: Path, *args: str) -> dict[str, Any]:
    done = studio("history", "provenance", *args, "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_every_write_of_a_field_in_order_with_merges_and_the_child(project: Path) -> None:
    """`log` is appended by two .sync members (each on its copy), combined by the group's merge, then
    by the payment child's merge and a fulfilment member: each, in order, old → new."""
    data = provenance(project, "1", "log")
    writers = [(w["node_id"], w["how"]) for w in data["writes"]]
    assert writers == [
        ("checkout/enrich/fetch_customer", "note"),
        ("checkout/enrich/check_inventory", "note"),
        ("checkout/enrich", "merge"),
        ("checkout/payment", "child"),
        ("checkout/fulfilment/book_shipment", "note"),
    ]
    first, *_, last = data["writes"]
    assert (first["old"], first["new"]) == ("[]", "['customer Ada Lovelace (gold)']")
    assert last["parts"] == [
        {"path": "3", "mark": "added", "old": "—", "new": "'shipment TRK223947744 booked from RTM-FREIGHT'"}
    ]
    assert data["initial"] == "[]"
    assert data["final"].startswith("['customer Ada Lovelace (gold)'")
    # each write starts from where the one before it left the run's score (the members: their copy)
    assert data["writes"][3]["old"] == data["writes"][2]["new"]


def test_a_field_of_a_child_s_own_score(project: Path) -> None:
    data = provenance(project, "1", "payment_id", "--in", "checkout/payment")
    assert [(w["node_id"], w["old"], w["new"]) for w in data["writes"]] == [
        ("checkout/payment/capture_payment", "''", "'pay_d12d67ef'")
    ]
    outer = provenance(project, "1", "payment_id")
    assert [(w["node_id"], w["how"]) for w in outer["writes"]] == [("checkout/payment", "child")]


def test_the_table_lists_the_writers_and_a_field_nobody_wrote_says_so(project: Path) -> None:
    done = studio("history", "provenance", "1", "shipping", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("shipping in run #1: written 1 time(s)")
    row = next(line for line in done.stdout.splitlines() if "quote_shipping" in line)
    assert "0 → 3900" in row
    kept = studio("history", "provenance", "1", "user_id", cwd=project)
    assert kept.stdout.strip() == "user_id in run #1: no note wrote it, it kept 'u-42'"
    nested = provenance(project, "1", "items.1.sku")
    assert [(w["node_id"], w["old"], w["new"]) for w in nested["writes"]] == [
        ("checkout/load_cart", "—", "'lamp-led'")
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1", "totl"), "no field 'totl' in run 1's score (its fields: user_id, cart_id, order_id,"),
        (("1", "items.9"), "no 'items.9' in run 1's score: 'items' holds 0, 1, 2; give one of them"),
        (("7", "total"), "no run 7 in the run history (newest: 1)"),
        (("1", "total", "--in", "checkout/pay"), "(its .child nodes: checkout/payment)"),
    ],
)
def test_bad_input_exits_2_naming_what_there_is(project: Path, args: tuple[str, ...], expected: str) -> None:
    done = studio("history", "provenance", *args, cwd=project)
    assert done.returncode == 2, done.stdout
    assert expected in done.stderr
    assert done.stdout == ""
