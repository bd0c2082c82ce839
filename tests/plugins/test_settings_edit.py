"""The line-level edit of `disabled` in a settings file: only its own lines change, or nothing does."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadence_studio.cli.toml_edit import TomlEditError, set_list
from cadence_studio.protocol.config import ConfigError, load_config

TABLE = ("tool", "cadence")


def test_a_multiline_list_is_replaced_and_a_trailing_comment_kept(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.cadence]\r\ndisabled = [\r\n  "a",  # old\r\n  "b",\r\n]\r\nnamespace = "x"\r\n')
    set_list(path, TABLE, "disabled", ["a"])
    assert path.read_bytes() == b'[tool.cadence]\r\ndisabled = ["a"]\r\nnamespace = "x"\r\n'
    path.write_text('[tool.cadence]\ndisabled = ["a"]  # off for now\n')
    set_list(path, TABLE, "disabled", ["a", "b"])
    assert path.read_text() == '[tool.cadence]\ndisabled = ["a", "b"]  # off for now\n'


def test_a_missing_table_is_added_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"')  # no newline at the end
    set_list(path, TABLE, "disabled", ["orders"])
    assert path.read_text() == '[project]\nname = "x"\n\n[tool.cadence]\ndisabled = ["orders"]\n'
    assert load_config(tmp_path).disabled == ["orders"]


def test_a_layout_lines_cannot_edit_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    """[tool] with a dotted `cadence.backend` key: adding a [tool.cadence] table would redefine it."""
    path = tmp_path / "pyproject.toml"
    text = '[tool]\ncadence.backend = "local"\n'
    path.write_text(text)
    with pytest.raises(TomlEditError, match=r'set \[tool.cadence\] disabled = \["orders"\] by hand'):
        set_list(path, TABLE, "disabled", ["orders"])
    assert path.read_text() == text


def test_a_malformed_disabled_list_names_the_setting_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cadence]\ndisabled = "orders"\n')
    with pytest.raises(ConfigError, match=r"disabled 'orders' \(from .*pyproject.toml \[tool.cadence\]\)"):
        load_config(tmp_path)
