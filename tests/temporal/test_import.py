"""The engine stays standard-library at import; the Temporal integration names its extra."""

from __future__ import annotations

import subprocess
import sys


def _probe(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_import_cadence_does_not_import_temporalio() -> None:
    out = _probe(
        "import sys, cadence, cadence.integrations\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'temporalio' or 'temporal' in m))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_missing_temporalio_names_the_extra() -> None:
    out = _probe(
        "import sys\nsys.modules['temporalio'] = None\n"
        "try:\n    import cadence.integrations.temporal\n"
        "except ImportError as e:\n    print(e)\n"
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'cadence-studio[temporal]'" in out.stdout
