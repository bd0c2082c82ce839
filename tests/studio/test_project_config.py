"""[tool.cadence] in the project's pyproject.toml, with CADENCE_* over it: one model for every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadence_studio.protocol.config import ConfigError, ProjectConfig, load_config


def test_no_file_and_no_variable_is_the_default(tmp_path: Path) -> None:
    """No pyproject.toml: no Temporal server, namespace "default"."""
    assert load_config(tmp_path, {}) == ProjectConfig()
    assert load_config(tmp_path, {}).temporal is None


def test_the_file_then_the_environment(tmp_path: Path) -> None:
    """The table's values, each overridden by its CADENCE_* variable; other tools' keys are kept."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n'
        '[tool.cadence]\ntemporal = "localhost:7233"\nnamespace = "shop"\nbackend = "temporal"\n'
    )
    config = load_config(tmp_path, {})
    assert (config.temporal, config.namespace) == ("localhost:7233", "shop")
    assert config.backend == "temporal"
    assert config.source("backend").endswith("pyproject.toml [tool.cadence]")
    overridden = load_config(tmp_path, {"CADENCE_TEMPORAL": "temporal.internal:7233"})
    assert (overridden.temporal, overridden.namespace) == ("temporal.internal:7233", "shop")


@pytest.mark.parametrize(
    ("text", "environ", "says"),
    [
        (
            '[tool.cadence]\ntemporal = "localhost"\n',
            {},
            "pyproject.toml [tool.cadence]): 'localhost' is not",
        ),
        (
            "",
            {"CADENCE_TEMPORAL": "7233"},
            "temporal '7233' (from CADENCE_TEMPORAL): '7233' is not HOST:PORT",
        ),
        ("[tool.cadence\n", {}, "cannot read "),
        ('[tool]\ncadence = "x"\n', {}, "[tool.cadence] in "),
    ],
)
def test_a_bad_setting_names_itself(tmp_path: Path, text: str, environ: dict[str, str], says: str) -> None:
    """A malformed file or value is a ConfigError naming the file or variable and the setting."""
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path, environ)
    assert says in str(raised.value)
