"""Choosing the backend: flag > environment > [tool.cadence] in pyproject.toml > the local default.

The settings module alone (``load_config``), then the real ``cadence-studio run`` as a user runs it,
where an unknown backend is exit 2 naming the accepted ones and where the value came from. That the
choice reaches Temporal is shown against a real dev server in tests/temporal/test_cli_run.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cadence_studio.protocol.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOP = str(ROOT / "examples" / "shop.py")


def pyproject(folder: Path, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "shop"\n\n[tool.cadence]\n{table}\n', encoding="utf-8")
    return path


def test_the_default_is_a_local_run(tmp_path: Path) -> None:
    config = load_config(tmp_path, {})
    assert (config.backend, config.address, config.namespace, config.task_queue) == (
        "local",
        "localhost:7233",
        "default",
        "cadence",
    )
    assert config.source("backend") == "default"
    assert config.temporal is None  # not configured: the studio lists no Temporal runs


def test_pyproject_is_found_from_cwd_upwards(tmp_path: Path) -> None:
    path = pyproject(tmp_path, 'backend = "temporal"\ntemporal = "tmp.example:7000"\ntask_queue = "shop"')
    deep = tmp_path / "src" / "shop"
    deep.mkdir(parents=True)
    config = load_config(deep, {})
    assert (config.backend, config.temporal, config.task_queue) == ("temporal", "tmp.example:7000", "shop")
    assert config.source("backend") == f"{path} [tool.cadence]"


def test_environment_beats_pyproject_and_flags_beat_both(tmp_path: Path) -> None:
    pyproject(tmp_path, 'backend = "local"\ntemporal = "from-file:1"')
    environ = {"CADENCE_BACKEND": "temporal", "CADENCE_TEMPORAL": "from-env:2"}
    by_env = load_config(tmp_path, environ)
    assert (by_env.backend, by_env.temporal) == ("temporal", "from-env:2")
    assert by_env.source("temporal") == "CADENCE_TEMPORAL"
    by_flag = load_config(tmp_path, environ, flags={"backend": "local", "temporal": "from-flag:3"})
    assert (by_flag.backend, by_flag.temporal) == ("local", "from-flag:3")
    assert by_flag.source("backend") == "--backend"
    unset = load_config(tmp_path, environ, flags={"backend": None})  # a flag not given does not count
    assert unset.backend == "temporal"


@pytest.mark.parametrize(
    ("table", "environ", "flags", "source"),
    [
        ('backend = "kubernetes"', {}, {}, "[tool.cadence]"),
        ("", {"CADENCE_BACKEND": "kubernetes"}, {}, "CADENCE_BACKEND"),
        ("", {}, {"backend": "kubernetes"}, "--backend"),
    ],
)
def test_an_unknown_backend_names_the_accepted_ones_and_its_source(
    tmp_path: Path, table: str, environ: dict[str, str], flags: dict[str, str], source: str
) -> None:
    pyproject(tmp_path, table)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ, flags=flags)
    message = str(caught.value)
    assert "'kubernetes'" in message
    assert "local, temporal" in message
    assert source in message


def test_a_bad_address_names_where_it_came_from(tmp_path: Path) -> None:
    pyproject(tmp_path, 'temporal = "localhost:7233"')
    with pytest.raises(
        ConfigError, match=r"temporal 'nohost' \(from CADENCE_TEMPORAL\): 'nohost' is not HOST:PORT"
    ):
        load_config(tmp_path, {"CADENCE_TEMPORAL": "nohost"})


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "cadence-studio"), *args, "--cwd", str(cwd)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": str(BIN), "HOME": str(cwd), **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "env", "table", "source"),
    [
        (["--backend", "k8s"], {}, "", "--backend"),
        ([], {"CADENCE_BACKEND": "k8s"}, 'backend = "temporal"', "CADENCE_BACKEND"),
        ([], {}, 'backend = "k8s"', "pyproject.toml [tool.cadence]"),
    ],
)
def test_run_refuses_an_unknown_backend_before_running_anything(
    tmp_path: Path, args: list[str], env: dict[str, str], table: str, source: str
) -> None:
    pyproject(tmp_path, table)
    done = run("run", SHOP + ":checkout", *args, cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stderr
    assert "unknown backend 'k8s'" in done.stderr
    assert "local, temporal" in done.stderr
    assert source in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / ".cadence").exists()  # nothing ran, nothing recorded


def test_the_flag_overrides_a_temporal_backend_from_the_environment(tmp_path: Path) -> None:
    """CADENCE_BACKEND=temporal with nothing listening: `--backend local` still runs locally."""
    env = {"CADENCE_BACKEND": "temporal", "CADENCE_TEMPORAL": "127.0.0.1:9"}
    done = run("run", SHOP + ":checkout", "--backend", "local", "--no-history", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "run done" in done.stdout


def test_a_temporal_backend_from_pyproject_is_used_and_named_when_unreachable(tmp_path: Path) -> None:
    """[tool.cadence] backend = "temporal" sends the run to Temporal: here nothing listens, so the
    command says where the address came from and how to start a server (exit 2, nothing recorded)."""
    pyproject(tmp_path, 'backend = "temporal"\ntemporal = "127.0.0.1:9"')
    done = run("run", SHOP + ":checkout", cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "cannot reach Temporal at 127.0.0.1:9 (from " in done.stderr
    assert "pyproject.toml [tool.cadence])" in done.stderr
    assert "temporal server start-dev" in done.stderr
    assert "Traceback" not in done.stderr


def test_local_only_options_are_refused_on_temporal(tmp_path: Path) -> None:
    done = run(
        "run", SHOP + ":checkout", "--backend", "temporal", "--break-at", "checkout/load_cart", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--break-at only work on a local run" in done.stderr
    assert "from --backend" in done.stderr
