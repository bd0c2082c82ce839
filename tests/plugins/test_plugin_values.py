"""Entry-point values the loader cannot use, named with the reason (in this test's process: a worker's
job, never the UI's). Values pip would not install (a malformed one) are checked here rather than in the
plugin venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadence_studio.errors import LoadError
from cadence_studio.protocol.plugins import Plugin
from cadence_studio.protocol.target import parse_target
from cadence_studio.worker.plugins import _load, load_plugins


def test_a_value_that_is_no_module_reference_is_reported() -> None:
    status, found, broken = _load(Plugin("odd", "not a value!", "pkg", "1.0"), qualified=True)
    assert found == []
    assert broken is not None
    assert status.error is not None
    assert status.error.message == "its value 'not a value!' is not 'module' or 'module:attribute'"


def test_a_module_that_is_not_installed_is_reported() -> None:
    status, _, _ = _load(Plugin("gone", "no_such_plugin_module:thing", "pkg", "1.0"), qualified=True)
    assert status.error is not None
    assert (
        status.error.message == "no module named 'no_such_plugin_module' (is pkg 1.0 installed completely?)"
    )


def test_an_unknown_plugin_target_lists_what_is_installed(tmp_path: Path) -> None:
    """This project's own environment has no plugins: `@nope` says so."""
    with pytest.raises(LoadError, match=r"no installed plugin 'nope' \(installed: none\)"):
        load_plugins(parse_target("@nope"), cwd=tmp_path)
