"""A temporary venv with real plugin packages installed by pip, shared by the session.

The venv sees this project's environment (``cadence`` and ``cadence_studio``) through a ``.pth`` file
that adds the project venv's site-packages as a site dir; the plugins are real distributions built by
pip (setuptools from the configured index, offline here) and found through their entry points.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

SHOP_CADENCES = '''\
"""The shop plugin's cadences."""

from __future__ import annotations

from dataclasses import dataclass

from cadence import Cadence, Score


@dataclass
class OrderScore(Score):
    items: int = 2
    total: int = 0
    confirmed: bool = False


def price(score: OrderScore) -> None:
    score.total = score.items * 250


def confirm(score: OrderScore) -> None:
    score.confirmed = True


checkout = Cadence("checkout", OrderScore()).then("price", price).then("confirm", confirm)


def make_refund(reason: str = "damaged") -> Cadence[OrderScore]:
    """A refund cadence, built for a reason."""
    return Cadence("refund", OrderScore()).then("price", price)
'''

BROKEN_BAD = '''\
"""A plugin module that fails while it is imported."""
GATEWAY = None
raise RuntimeError("payment gateway not configured")
'''

BROKEN_OK = '''\
"""A plugin module that imports, but offers no cadence where its entry points say."""
NOT_A_CADENCE = 42
'''


def _package(
    root: Path, dist: str, version: str, package: str, modules: dict[str, str], points: dict[str, str]
) -> Path:
    folder = root / dist
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    for name, text in modules.items():
        (folder / package / f"{name}.py").write_text(text)
    entries = "\n".join(f'{name} = "{value}"' for name, value in points.items())
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "{version}"

            [tool.setuptools]
            packages = ["{package}"]

            [project.entry-points."cadence.cadences"]
            """
        )
        + entries
        + "\n"
    )
    return folder


@dataclass
class PluginEnv:
    """The venv: its python and its `cadence-studio` script."""

    root: Path
    python: Path
    studio: Path
    site: Path

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CADENCE_", "PYTHON", "VIRTUAL_ENV"))}
        env["COLUMNS"] = "200"
        return subprocess.run(
            [str(self.studio), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )


@pytest.fixture(scope="session")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> PluginEnv:
    """One venv for the session, with two real plugin packages pip-installed: a working shop plugin
    (a cadence, a module and a factory entry point) and a broken one (an import error, a missing
    attribute, a value that is no cadence)."""
    root = tmp_path_factory.mktemp("plugin-venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = sysconfig.get_paths()["purelib"]  # this project's venv: cadence, cadence_studio, pip
    (site / "_cadence_project.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    sources = root / "src"
    shop = _package(
        sources,
        "cadence-shop-plugin",
        "1.2.0",
        "shopplug",
        {"cadences": SHOP_CADENCES},
        {
            "orders": "shopplug.cadences:checkout",
            "shop": "shopplug.cadences",
            "refunds": "shopplug.cadences:make_refund",
        },
    )
    broken = _package(
        sources,
        "cadence-broken-plugin",
        "0.3.0",
        "brokenplug",
        {"bad": BROKEN_BAD, "ok": BROKEN_OK},
        {
            "explodes": "brokenplug.bad",
            "ghost": "brokenplug.ok:missing",
            "number": "brokenplug.ok:NOT_A_CADENCE",
        },
    )
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(shop), str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    studio = venv / "bin" / "cadence-studio"
    studio.write_text(
        f"#!{python}\nimport sys\nfrom cadence_studio.cli.studio import main\nsys.exit(main())\n"
    )
    studio.chmod(0o755)
    return PluginEnv(root=root, python=python, studio=studio, site=site)
