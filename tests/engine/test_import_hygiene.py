"""The engine imports only the standard library."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "textual",
    "rich",
    "typer",
    "pydantic",
    "cadence_studio",
    "prometheus_client",
    "opentelemetry",
    "fastapi",
    "starlette",
    "uvicorn",
    "flask",
    "werkzeug",
    "waitress",
)


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_cadence_loads_no_third_party_ui_or_studio_module() -> None:
    """`import cadence` and its public submodules load no UI, studio, Prometheus, OpenTelemetry or
    web-framework module."""
    loaded = _modules_after(
        "import cadence, cadence.score, cadence.note, cadence.exceptions, cadence.hooks, "
        "cadence.resilience, cadence.reporters, cadence.diagram, cadence.result, cadence.types"
    )
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert bad == []


def test_engine_modules_only_import_the_standard_library() -> None:
    """Every module `import cadence` loads is from the standard library or the engine itself."""
    loaded = _modules_after("import cadence")
    stdlib = set(sys.stdlib_module_names) | {"cadence", "__main__", "_distutils_hack"}
    foreign = sorted(m for m in loaded if m.split(".")[0] not in stdlib and not m.startswith("_"))
    assert foreign == []
