"""The project's Cadence settings: flags, then ``CADENCE_*`` env, then ``[tool.cadence]`` in its
``pyproject.toml`` (the nearest one from the project's folder upwards), then the defaults.

One pydantic model, :class:`ProjectConfig`, read by :func:`load_config`; a setting gets a field here
(with its environment variable in ``ENV`` and its flag in ``FLAGS``) and every command and the studio see
it. A malformed file or value is a :class:`ConfigError` naming the setting and where it came from.

```toml
[tool.cadence]
backend = "temporal"          # where `cadence-studio run` runs: "local" (default) or "temporal"
temporal = "localhost:7233"   # the Temporal frontend (HOST:PORT); the studio lists its runs too
namespace = "default"
task_queue = "cadence"        # the queue `cadence-studio worker` serves and runs are started on
disabled = ["orders"]         # installed plugins (entry-point names) this project does not load
```

A project without a ``pyproject.toml`` keeps the same settings, as top-level keys, in
``.cadence/settings.toml`` of its folder (see :func:`settings_file`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import StudioError

__all__ = [
    "BACKENDS",
    "DEFAULT_TEMPORAL",
    "ENV",
    "FLAGS",
    "ConfigError",
    "ProjectConfig",
    "find_pyproject",
    "load_config",
    "settings_file",
]

BACKENDS = ("local", "temporal")
#: the Temporal address a run or a worker uses when none is configured
DEFAULT_TEMPORAL = "localhost:7233"
#: setting → the environment variable that overrides the file
ENV = {
    "backend": "CADENCE_BACKEND",
    "temporal": "CADENCE_TEMPORAL",
    "namespace": "CADENCE_NAMESPACE",
    "task_queue": "CADENCE_TASK_QUEUE",
}
#: setting → the command-line flag that overrides the environment
FLAGS = {
    "backend": "--backend",
    "temporal": "--temporal",
    "namespace": "--namespace",
    "task_queue": "--task-queue",
}


class ConfigError(StudioError):
    """``[tool.cadence]`` (or a ``CADENCE_*`` variable, or a flag) holds something the studio cannot use."""


class ProjectConfig(BaseModel):
    """``[tool.cadence]`` of the project; unknown keys are kept for the settings other tools add.

    ``sources`` says where each setting came from: its flag, its variable, ``PATH [tool.cadence]``
    (absent: the default)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    #: where `cadence-studio run` runs a cadence
    backend: Literal["local", "temporal"] = "local"
    #: the Temporal server (HOST:PORT); when set, the studio's history lists its cadence runs too
    temporal: str | None = None
    #: the Temporal namespace
    namespace: str = Field("default", min_length=1)
    #: the task queue workers serve and runs are started on
    task_queue: str = Field("cadence", min_length=1)
    #: entry-point names of installed plugins (group ``cadence.cadences``) this project does not load
    disabled: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("temporal")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            msg = f"{value!r} is not HOST:PORT (e.g. localhost:7233)"
            raise ValueError(msg)
        return value.strip()

    @property
    def address(self) -> str:
        """The Temporal address to run on: the configured one, else ``localhost:7233``."""
        return self.temporal or DEFAULT_TEMPORAL

    def source(self, name: str) -> str:
        """Where setting ``name`` came from (``--backend``, ``CADENCE_BACKEND``, ``… [tool.cadence]``,
        ``default``)."""
        return self.sources.get(name, "default")


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` or a folder above it."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / "pyproject.toml"
    return None


#: where a project without a pyproject.toml keeps its settings (top-level keys), relative to its folder
SETTINGS_TOML = Path(".cadence") / "settings.toml"


def settings_file(project: Path) -> tuple[Path, bool]:
    """The file holding the project's settings and whether it is a pyproject.toml (``[tool.cadence]``)
    rather than ``.cadence/settings.toml`` (top-level keys; it may not exist yet)."""
    path = find_pyproject(project)
    return (path, True) if path is not None else (project.resolve() / SETTINGS_TOML, False)


def _table(path: Path, *, top_level: bool = False) -> Mapping[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"cannot read {path}: {error}; fix the file ([tool.cadence] there holds the studio's settings)"
        raise ConfigError(msg) from None
    if top_level:
        return data
    table = data.get("tool", {}).get("cadence", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        msg = f"[tool.cadence] in {path} must be a table, not {type(table).__name__}"
        raise ConfigError(msg)
    return table


def load_config(
    project: Path,
    environ: Mapping[str, str] | None = None,
    *,
    flags: Mapping[str, str | None] | None = None,
) -> ProjectConfig:
    """The settings of the project in ``project``: the nearest pyproject.toml's ``[tool.cadence]``, the
    ``CADENCE_*`` environment variables (``environ``, default ``os.environ``) over them, and ``flags``
    (setting → value given on the command line, None when not given) over both.

    Raises:
        ConfigError: the file cannot be read, or a setting is malformed (the message names it, the
            values it accepts when they are few, and where it came from).
    """
    environ = os.environ if environ is None else environ
    path, is_pyproject = settings_file(project)
    values: dict[str, Any] = dict(_table(path, top_level=not is_pyproject))
    where = f"{path} [tool.cadence]" if is_pyproject else str(path)
    sources = {name: where for name in values if name in ENV or name == "disabled"}
    for name, variable in ENV.items():
        if environ.get(variable):
            values[name], sources[name] = environ[variable], variable
    for name, value in (flags or {}).items():
        if value is not None:
            values[name], sources[name] = value, FLAGS[name]
    if isinstance(values.get("backend"), str):
        values["backend"] = values["backend"].strip().lower()
    try:
        return ProjectConfig.model_validate({**values, "sources": sources})
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        where = sources.get(name.split(".")[0], where)
        if name == "backend":
            msg = (
                f"unknown backend {values.get('backend')!r} (from {where}); use one of: {', '.join(BACKENDS)}"
            )
        else:
            problem = first["msg"].removeprefix("Value error, ")
            msg = f"{name} {values.get(name.split('.')[0])!r} (from {where}): {problem}"
        raise ConfigError(msg) from None
