"""`cadence-studio worker` with no TARGET serves the installed plugins on Temporal, leaving out the
disabled ones (its start line says so) and warning about the broken ones."""

from __future__ import annotations

from pathlib import Path

from tests.temporal.cli_tools import serve_until_sigint
from tests.temporal.conftest import TemporalServer, temporal_server  # noqa: F401 (the fixture)

from .conftest import PluginEnv


def test_worker_serves_the_enabled_plugins_and_names_the_disabled(
    plugin_env: PluginEnv,
    temporal_server: TemporalServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cadence]\ndisabled = ["orders", "shop"]\n')
    out, warnings = serve_until_sigint(
        [str(plugin_env.studio), "worker", "--temporal", temporal_server.address, "--task-queue", "plugins"],
        tmp_path,
        stderr_apart=True,
    )
    first = out.splitlines()[0]
    assert first == (
        f"serving 'refund' on Temporal at {temporal_server.address} (namespace 'default', task queue "
        "'plugins'); disabled here, not registered: 'orders', 'shop' (cadence-studio enable NAME); "
        "Ctrl-C stops"
    )
    assert "warning: plugin 'explodes' (cadence-broken-plugin): importing 'brokenplug.bad' raised" in warnings
    assert "brokenplug/bad.py:3)" in warnings
    assert "warning: plugin 'ghost'" in warnings
