"""The project's Cadence settings: ``[tool.cadence]`` in its ``pyproject.toml``, then ``CADENCE_*`` env.

One pydantic model, :class:`ProjectConfig`, read by :func:`load_config`; a setting gets a field here
(with its environment variable in ``_ENV``) and every command and the studio see it. An environment
variable wins over the file. A malformed file or value is a :class:`ConfigError` naming the file and
the setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import StudioError

__all__ = ["ConfigError", "ProjectConfig", "load_config"]

#: setting → the environment variable that overrides it
_ENV = {"temporal": "CADENCE_TEMPORAL", "namespace": "CADENCE_NAMESPACE"}


class ConfigError(StudioError):
    """``[tool.cadence]`` (or a ``CADENCE_*`` variable) holds something the studio cannot use."""


class ProjectConfig(BaseModel):
    """``[tool.cadence]`` of the project; unknown keys are kept for the settings other tools add."""

    model_config = ConfigDict(extra="allow", frozen=True)

    #: the Temporal server (HOST:PORT) whose cadence runs the history lists beside the local ones
    temporal: str | None = None
    #: the Temporal namespace
    namespace: str = "default"

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


def _table(path: Path) -> Mapping[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"cannot read {path}: {error}; fix the file ([tool.cadence] there holds the studio's settings)"
        raise ConfigError(msg) from None
    table = data.get("tool", {}).get("cadence", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        msg = f"[tool.cadence] in {path} must be a table, not {type(table).__name__}"
        raise ConfigError(msg)
    return table


def load_config(project: Path, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    """The settings of the project in ``project``: its pyproject.toml's ``[tool.cadence]``, then the
    ``CADENCE_*`` environment variables (``environ``, default ``os.environ``) over them.

    Raises:
        ConfigError: the file cannot be read, or a setting is malformed (the message names it).
    """
    environ = os.environ if environ is None else environ
    path = project / "pyproject.toml"
    values = dict(_table(path))
    for name, variable in _ENV.items():
        if environ.get(variable):
            values[name] = environ[variable]
    try:
        return ProjectConfig.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        where = (
            f"${_ENV[name]}"
            if name in _ENV and environ.get(_ENV[name])
            else f"[tool.cadence] {name} in {path}"
        )
        msg = f"{where}: {first['msg']}"
        raise ConfigError(msg) from None
