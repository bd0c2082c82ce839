"""Run generated code as a user does: its tests in a fresh interpreter, the ``cadence`` CLI, imports."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType


def run_tests(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in a new interpreter, in ``cwd`` (on ``PYTHONPATH`` too), warnings as errors."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cadence(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ``cadence`` command line, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-c", "from cadence_studio.cli.cadence import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def passed(done: subprocess.CompletedProcess[str], count: int) -> bool:
    """Whether a pytest run passed ``count`` tests and nothing else."""
    return done.returncode == 0 and f"{count} passed" in done.stdout and "warning" not in done.stdout


def load(folder: Path, module: str) -> ModuleType:
    """Import ``module`` from ``folder`` (the ``imports`` fixture forgets it after the test)."""
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    return importlib.import_module(module)
