"""Installed plugins (entry points of `cadence.cadences`) through `cadence-studio` of a real venv."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import PluginEnv


def test_list_installed_shows_plugins_and_reports_the_broken_ones(plugin_env: PluginEnv, tmp_path: Path) -> None:
    done = plugin_env.run("list", "--installed", cwd=tmp_path)
    print(done.stdout, done.stderr)
    assert False
