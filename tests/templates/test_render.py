"""Every template kind rendered into a temporary folder: it imports, runs, and its own tests pass."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from cadence import Cadence
from cadence_studio import scaffold

from ._run import load, passed, run_tests

NOTE_OPTIONS = {
    "async": {},
    "sync": {"is_async": False},
    "every-decorator": {"retry": 3, "timeout": 2, "fallback": "0"},
    "every-decorator-sync": {"is_async": False, "retry": 2, "timeout": 0.5, "fallback": "'declined'"},
    "retry-only": {"retry": 4},
    "timeout-only": {"timeout": 1.5},
    "fallback-word": {"fallback": "guest"},
    "fallback-none": {"fallback": "None"},
}


def test_every_kind_is_tested_here() -> None:
    """The shipped kinds are the four these tests render (a new kind needs a test of its own)."""
    assert scaffold.template_kinds() == ["cadence", "frozen", "note", "project", "test"]


@pytest.mark.parametrize("options", NOTE_OPTIONS.values(), ids=NOTE_OPTIONS.keys())
def test_note_imports_runs_and_passes_its_test(tmp_path: Path, options: dict[str, Any]) -> None:
    """A note and its test: the note runs in a cadence and its generated tests pass."""
    made = scaffold.new_note("charge_card", directory=tmp_path, root=tmp_path, **options)
    assert [p.name for p in made.files] == ["charge_card.py", "test_charge_card.py"]
    assert made.hint == 'from charge_card import charge_card\n.then("charge_card", charge_card)'
    module = load(tmp_path, "charge_card")
    assert module.charge_card.is_async is options.get("is_async", True)
    score = Cadence("t", module.ChargeCardScore()).then("charge_card", module.charge_card).run_sync()
    assert score.charge_card_result == "done"
    done = run_tests(tmp_path)
    assert passed(done, 3), done.stdout + done.stderr


def test_note_decorators_follow_the_options(tmp_path: Path) -> None:
    """Only the requested decorators are generated, fallback outermost and timeout innermost."""
    scaffold.new_note("fetch", directory=tmp_path, root=tmp_path, retry=3, timeout=2, fallback="0")
    scaffold.new_note("bare", directory=tmp_path, root=tmp_path)
    lines = (tmp_path / "fetch.py").read_text().splitlines()
    start = lines.index('@fallback(0, field="fetch_result")')
    assert lines[start : start + 5] == [
        '@fallback(0, field="fetch_result")',
        "@retry(3, delay=0.1, on=(ConnectionError, TimeoutError))",
        "@timeout(2.0)",
        "@note",
        "async def fetch(score: FetchScore) -> None:",
    ]
    bare = (tmp_path / "bare.py").read_text()
    assert "@retry" not in bare
    assert "@timeout" not in bare
    assert "@fallback" not in bare
    assert "from cadence import Score, note\n" in bare


def test_cadence_imports_runs_and_passes_its_test(tmp_path: Path) -> None:
    """A cadence module and its test: the cadence runs and its generated tests pass."""
    made = scaffold.new_cadence("refund-order", directory=tmp_path, root=tmp_path)
    assert [p.name for p in made.files] == ["refund_order.py", "test_refund_order.py"]
    module = load(tmp_path, "refund_order")
    assert isinstance(module.refund_order, Cadence)
    score = module.create_refund_order_cadence().run_sync(module.RefundOrderScore(request="r-1"))
    assert (score.validated, score.refund_order_result) == (True, "done")
    done = run_tests(tmp_path)
    assert passed(done, 3), done.stdout + done.stderr


def test_note_and_test_go_into_a_package_and_its_tests_folder(tmp_path: Path) -> None:
    """In a package with a tests/ folder, the test goes there and imports the note by its dotted path."""
    (tmp_path / "shop" / "tests").mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tests" / "__init__.py").write_text("")
    made = scaffold.new_note("charge", directory=Path("shop"), root=tmp_path, retry=2)
    assert made.files == [tmp_path / "shop" / "charge.py", tmp_path / "shop" / "tests" / "test_charge.py"]
    assert made.hint.startswith("from shop.charge import charge\n")
    done = run_tests(tmp_path)
    assert passed(done, 3), done.stdout + done.stderr


def test_project_imports_runs_and_passes_its_test(tmp_path: Path) -> None:
    """A project: its package imports, its cadence runs, its tests pass as generated."""
    project = tmp_path / "shop"
    made = scaffold.init_project(project, name="my-shop")
    assert {p.relative_to(project).as_posix() for p in made.files} == {
        "README.md",
        "pyproject.toml",
        "my_shop/__init__.py",
        "my_shop/cadences.py",
        "my_shop/notes.py",
        "my_shop/tests/__init__.py",
        "my_shop/tests/test_cadences.py",
    }
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "my-shop"
    assert meta["project"]["dependencies"] == ["cadence-studio"]
    module = load(project, "my_shop.cadences")
    assert module.welcome.run_sync(module.WelcomeScore(user_name="ada")).message == "Hello, Ada!"
    done = run_tests(project)
    assert passed(done, 3), done.stdout + done.stderr


def test_project_name_defaults_to_the_folder(tmp_path: Path) -> None:
    """Without a name, the folder names the project; the package is its identifier in lower case."""
    made = scaffold.init_project(tmp_path / "Billing-API")
    assert tomllib.loads((tmp_path / "Billing-API" / "pyproject.toml").read_text())["project"]["name"] == (
        "Billing-API"
    )
    assert (tmp_path / "Billing-API" / "billing_api" / "cadences.py") in made.files
