"""`cadence-studio worker` with no TARGET serves the installed plugins on Temporal, leaving out the
disabled ones (its start line says so) and warning about the broken ones."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.temporal.conftest import TemporalServer, temporal_server  # noqa: F401 (the fixture)

from .conftest import PluginEnv


def test_worker_serves_the_enabled_plugins_and_names_the_disabled(
    plugin_env: PluginEnv,
    temporal_server: TemporalServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cadence]\ndisabled = ["orders", "shop"]\n')
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as sink, err.open("w") as errors:
        worker = subprocess.Popen(
            [
                str(plugin_env.studio),
                "worker",
                "--temporal",
                temporal_server.address,
                "--task-queue",
                "plugins",
            ],
            cwd=tmp_path,
            stdout=sink,
            stderr=errors,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60  # generous for a loaded machine; not a bound under test
        while "serving" not in out.read_text():
            assert worker.poll() is None, out.read_text() + err.read_text()
            assert time.monotonic() < deadline, out.read_text() + err.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    first = out.read_text().splitlines()[0]
    assert first == (
        f"serving 'refund' on Temporal at {temporal_server.address} (namespace 'default', task queue "
        "'plugins'); disabled here, not registered: 'orders', 'shop' (cadence-studio enable NAME); "
        "Ctrl-C stops"
    )
    warnings = err.read_text()
    assert "warning: plugin 'explodes' (cadence-broken-plugin): importing 'brokenplug.bad' raised" in warnings
    assert "brokenplug/bad.py:3)" in warnings
    assert "warning: plugin 'ghost'" in warnings
