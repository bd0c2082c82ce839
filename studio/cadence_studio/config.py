"""The project's Cadence settings: where runs go (the local engine or Temporal) and how to reach Temporal.

Read from, strongest first: the command line's flags, the environment (``CADENCE_BACKEND``,
``CADENCE_TEMPORAL``, ``CADENCE_NAMESPACE``, ``CADENCE_TASK_QUEUE``), the ``[tool.cadence]`` table of the
project's ``pyproject.toml`` (the nearest one from ``--cwd`` upwards), then the defaults: a local run,
Temporal at ``localhost:7233``, namespace ``default``, task queue ``cadence``.

```toml
[tool.cadence]
backend = "temporal"          # or "local"
temporal = "localhost:7233"   # HOST:PORT of the Temporal frontend
namespace = "default"
task_queue = "cadence"
```

Imports pydantic and the standard library only (the UI, the command lines and the store may all read it).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

__all__ = ["BACKENDS", "ENV", "CadenceConfig", "ConfigError", "find_pyproject", "load_config"]

BACKENDS = ("local", "temporal")
#: setting → the environment variable that sets it
ENV = {
    "backend": "CADENCE_BACKEND",
    "temporal": "CADENCE_TEMPORAL",
    "namespace": "CADENCE_NAMESPACE",
    "task_queue": "CADENCE_TASK_QUEUE",
}
_FLAGS = {
    "backend": "--backend",
    "temporal": "--temporal",
    "namespace": "--namespace",
    "task_queue": "--task-queue",
}


class CadenceConfig(BaseModel):
    """The settings, and where each came from (``sources``: setting → "--backend", "CADENCE_BACKEND",
    "/path/pyproject.toml [tool.cadence]" or "default")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["local", "temporal"] = "local"
    temporal: str = Field("localhost:7233", min_length=1)
    namespace: str = Field("default", min_length=1)
    task_queue: str = Field("cadence", min_length=1)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` or a folder above it."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _from_pyproject(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"cannot read {path}: {error}; fix the file (or run from another folder with --cwd)"
        raise ConfigError(msg) from None
    table = data.get("tool", {}).get("cadence", {})
    if not isinstance(table, dict):
        msg = f'{path}: [tool.cadence] must be a table, e.g. [tool.cadence] backend = "local"'
        raise ConfigError(msg)
    known = [name for name in ENV if name in table]
    unknown = sorted(set(table) - set(ENV))
    if unknown:
        msg = (
            f"{path} [tool.cadence]: unknown setting {', '.join(map(repr, unknown))}; "
            f"the settings are: {', '.join(ENV)}"
        )
        raise ConfigError(msg)
    return {name: table[name] for name in known}


def load_config(
    cwd: Path,
    flags: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CadenceConfig:
    """The settings for a command run in ``cwd``: flags > environment > pyproject.toml > defaults.

    Raises :class:`ConfigError` naming the bad value, the accepted ones and where it came from.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        for name, value in _from_pyproject(pyproject).items():
            values[name], sources[name] = value, f"{pyproject} [tool.cadence]"
    for name, variable in ENV.items():
        if environ.get(variable):
            values[name], sources[name] = environ[variable], variable
    for name, value in (flags or {}).items():
        if value is not None:
            values[name], sources[name] = value, _FLAGS[name]
    if isinstance(values.get("backend"), str):
        values["backend"] = values["backend"].strip().lower()
    try:
        return CadenceConfig(**values, sources=sources)
    except ValidationError as error:
        problem = error.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        where = sources.get(name, "default")
        if name == "backend":
            msg = (
                f"unknown backend {values.get('backend')!r} (from {where}); use one of: {', '.join(BACKENDS)}"
            )
        else:
            msg = f"bad {name} {values.get(name)!r} (from {where}): {problem['msg']}"
        raise ConfigError(msg) from None
