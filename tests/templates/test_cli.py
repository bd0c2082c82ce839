"""`cadence init` and `cadence new`, run as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._run import cadence, passed, run_tests


def test_init_writes_a_project_whose_test_passes(tmp_path: Path) -> None:
    """`cadence init DIR --name` lists what it wrote and the next step; the project's test passes."""
    done = cadence("init", "shop", "--name", "my-shop", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote shop/my_shop/cadences.py" in done.stdout
    assert "cd shop && python -m pytest" in done.stdout
    assert "cadence-studio my_shop.cadences" in done.stdout
    tested = run_tests(tmp_path / "shop")
    assert passed(tested, 3), tested.stdout + tested.stderr


def test_init_in_the_current_folder_takes_its_name(tmp_path: Path) -> None:
    """Without DIR and --name, the current folder is the project and names it."""
    (tmp_path / "billing-api").mkdir()
    done = cadence("init", cwd=tmp_path / "billing-api")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "billing-api" / "billing_api" / "cadences.py").is_file()
    assert 'name = "billing-api"' in (tmp_path / "billing-api" / "pyproject.toml").read_text()


def test_new_note_carries_every_requested_decorator(tmp_path: Path) -> None:
    """`new note x --retry 3 --timeout 2 --fallback 0`: the decorators are in the file; its test passes."""
    done = cadence("new", "note", "x", "--retry", "3", "--timeout", "2", "--fallback", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "wrote x.py",
        "wrote test_x.py",
        "",
        "from x import x",
        '.then("x", x)',
    ]
    code = (tmp_path / "x.py").read_text()
    assert (
        '@fallback(0, field="x_result")\n'
        "@retry(3, delay=0.1, on=(ConnectionError, TimeoutError))\n"
        "@timeout(2.0)\n"
        "@note\n"
        "async def x(score: XScore) -> None:\n"
    ) in code
    tested = run_tests(tmp_path)
    assert passed(tested, 3), tested.stdout + tested.stderr


def test_new_note_sync(tmp_path: Path) -> None:
    """`--sync` writes a plain def note, and its test passes."""
    done = cadence("new", "note", "score_risk", "--sync", "--timeout", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    code = (tmp_path / "score_risk.py").read_text()
    assert "\ndef score_risk(score: ScoreRiskScore) -> None:" in code
    assert "async def" not in code
    tested = run_tests(tmp_path)
    assert passed(tested, 3), tested.stdout + tested.stderr


def test_kebab_case_names_become_identifiers(tmp_path: Path) -> None:
    """`process-payment` is written as process_payment.py, and the hint uses that name."""
    done = cadence("new", "note", "process-payment", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "process_payment.py").is_file()
    assert '.then("process_payment", process_payment)' in done.stdout
    cadence_done = cadence("new", "cadence", "refund-order", cwd=tmp_path)
    assert cadence_done.returncode == 0, cadence_done.stderr
    assert (tmp_path / "refund_order.py").is_file()


def test_new_note_and_cadence_grow_an_initialised_project(tmp_path: Path) -> None:
    """After `init`, `new -o PACKAGE` writes into the package and its tests/; the whole suite passes."""
    assert cadence("init", "--name", "shop", cwd=tmp_path).returncode == 0
    note = cadence("new", "note", "charge_card", "-o", "shop", "--retry", "3", "--timeout", "2", cwd=tmp_path)
    assert note.returncode == 0, note.stderr
    assert "wrote shop/tests/test_charge_card.py" in note.stdout
    assert "from shop.charge_card import charge_card" in note.stdout
    flow = cadence("new", "cadence", "checkout", "-o", "shop", cwd=tmp_path)
    assert flow.returncode == 0, flow.stderr
    tested = run_tests(tmp_path)
    assert passed(tested, 9), tested.stdout + tested.stderr
    checked = cadence("validate", "shop.checkout", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("command", [["init"], ["new"], ["new", "note"], ["new", "cadence"]])
def test_help_shows_examples(tmp_path: Path, command: list[str]) -> None:
    """Every scaffolding command's --help has examples."""
    done = cadence(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Examples: cadence " in done.stdout


def test_new_inside_an_init_project_writes_into_its_package(tmp_path: Path) -> None:
    """In a `cadence init` project, `new note` / `new cadence` write into the package and its tests/;
    the project's tests (the generated ones included) pass."""
    assert cadence("init", "my-service", cwd=tmp_path).returncode == 0
    project = tmp_path / "my-service"
    note = cadence("new", "note", "process-payment", "--retry", "2", cwd=project)
    assert note.returncode == 0, note.stderr
    assert note.stdout.splitlines()[:2] == [
        "wrote my_service/process_payment.py",
        "wrote my_service/tests/test_process_payment.py",
    ]
    assert "from my_service.process_payment import process_payment" in note.stdout
    made = cadence("new", "cadence", "refund", cwd=project)
    assert made.returncode == 0, made.stderr
    assert (project / "my_service" / "refund.py").is_file()
    assert (project / "my_service" / "tests" / "test_refund.py").is_file()
    assert sorted(p.name for p in project.glob("*.py")) == []
    tested = run_tests(project)
    assert passed(tested, 3 + 3 + 3), tested.stdout + tested.stderr


def test_new_with_output_still_goes_where_asked_in_a_project(tmp_path: Path) -> None:
    """-o wins over the project's package."""
    assert cadence("init", "svc", cwd=tmp_path).returncode == 0
    done = cadence("new", "note", "ping", "-o", "extra", cwd=tmp_path / "svc")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "svc" / "extra" / "ping.py").is_file()
    assert not (tmp_path / "svc" / "svc" / "ping.py").exists()
