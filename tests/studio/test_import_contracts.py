"""The studio's layers are checked contracts: `lint-imports` passes on the tree, and fails, naming both
modules, on a copy of it with a wrong import or an import cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDIO = ROOT / "studio" / "cadence_studio"


def lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert tool is not None, "lint-imports is missing: pip install -e '.[dev]' (import-linter)"
    env = dict(os.environ)
    if pythonpath is not None:  # ahead of the editable install: the copy is the one analysed
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [tool, "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    """Every contract in pyproject.toml is kept: `lint-imports` exits 0 and reports none broken."""
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken." in done.stdout


@pytest.fixture
def studio_copy(tmp_path: Path) -> Path:
    """A copy of cadence_studio (and the project's pyproject.toml) to break on purpose."""
    copy = tmp_path / "studio" / "cadence_studio"
    shutil.copytree(STUDIO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_ui_importing_the_worker_side_breaks_a_contract(studio_copy: Path) -> None:
    """A widget that imports the loader fails the check; the report names the widget and the loader."""
    widget = studio_copy / "studio" / "cadence_studio" / "ui" / "widgets" / "timeline.py"
    add_line(widget, "from ...worker.loader import import_target  # noqa: E402, F401")
    done = lint_imports(studio_copy, pythonpath=studio_copy / "studio")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the UI side imports neither the worker side" in done.stdout
    assert "BROKEN" in done.stdout
    assert "cadence_studio.ui.widgets.timeline -> cadence_studio.worker.loader" in done.stdout


def test_the_worker_importing_textual_breaks_a_contract(studio_copy: Path) -> None:
    """The worker side importing Textual fails the check, naming the worker module and textual."""
    values = studio_copy / "studio" / "cadence_studio" / "worker" / "values.py"
    add_line(values, "import textual  # noqa: E402, F401")
    done = lint_imports(studio_copy, pythonpath=studio_copy / "studio")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cadence_studio.worker.values -> textual" in done.stdout


def test_an_import_cycle_breaks_a_contract(studio_copy: Path) -> None:
    """Two modules importing each other fail the check; the report names the import that closes the cycle."""
    store = studio_copy / "studio" / "cadence_studio" / "store"
    add_line(store / "writers.py", "from . import history  # noqa: E402, F401")
    done = lint_imports(studio_copy, pythonpath=studio_copy / "studio")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No cycles are allowed in cadence_studio.store." in done.stdout
    assert ".writers -> .history" in done.stdout or ".history -> .writers" in done.stdout
