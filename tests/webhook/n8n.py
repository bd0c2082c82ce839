"""Real n8n for the tests: installed once from npm into a cache folder outside the clone, then reused.

``${XDG_CACHE_HOME:-~/.cache}/cadence-studio/n8n-2.8.4`` holds it (2.4 GB, ~3 min to install the
first time; nothing downloads after that). 2.8.4 is the newest n8n whose engines accept Node 20, and
its install needs ``"overrides": {"xlsx": "0.18.5"}`` (it asks for an off-registry tarball otherwise).
A file lock keeps two test sessions from installing at once; a marker written after a complete
install tells a finished folder from an interrupted one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["N8N_VERSION", "N8nMissing", "install_n8n", "n8n_env", "n8n_home", "run_n8n"]

N8N_VERSION = "2.8.4"
_MARKER = ".cadence-studio-installed"
_PACKAGE = {
    "name": "cadence-studio-n8n",
    "private": True,
    "dependencies": {"n8n": N8N_VERSION},
    "overrides": {"xlsx": "0.18.5"},
}


class N8nMissing(RuntimeError):
    """n8n cannot be installed here (no node or npm); the message says what to install."""


def n8n_home() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cadence-studio" / f"n8n-{N8N_VERSION}"


def _binary(home: Path) -> Path:
    return home / "node_modules" / ".bin" / "n8n"


def install_n8n() -> Path:
    """The n8n executable, installed into :func:`n8n_home` if it is not there yet.

    Raises:
        N8nMissing: node or npm is missing.
        RuntimeError: npm failed (the end of its log is in the message).
    """
    home = n8n_home()
    if (home / _MARKER).is_file() and _binary(home).exists():
        return _binary(home)
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        msg = f"{' and '.join(missing)} not found: install Node.js 20 and npm (apt-get install nodejs npm)"
        raise N8nMissing(msg)
    home.mkdir(parents=True, exist_ok=True)
    with (home.parent / f"n8n-{N8N_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing it: wait for it
        if (home / _MARKER).is_file() and _binary(home).exists():
            return _binary(home)
        (home / "package.json").write_text(json.dumps(_PACKAGE, indent=2))
        log = home / "install.log"
        with log.open("w") as out:
            done = subprocess.run(
                ["npm", "install", "--omit=dev", "--no-audit", "--no-fund", f"n8n@{N8N_VERSION}"],
                cwd=home,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=1500,
                check=False,
            )
        if done.returncode != 0 or not _binary(home).exists():
            tail = log.read_text(errors="replace")[-3000:]
            msg = f"npm install n8n@{N8N_VERSION} failed in {home} (exit {done.returncode}):\n{tail}"
            raise RuntimeError(msg)
        (home / _MARKER).write_text("ok\n")
    return _binary(home)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def n8n_env(user_folder: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an n8n command with its own user folder (its database and settings), and its
    task broker on a free port (`n8n execute` listens on 5679 otherwise, which another run may hold)."""
    return {
        **os.environ,
        "N8N_USER_FOLDER": str(user_folder),
        "N8N_RUNNERS_BROKER_PORT": str(_free_port()),
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "false",
        **(extra or {}),
    }


def run_n8n(
    n8n: Path, user_folder: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``n8n ARGS`` with ``user_folder`` as its home; its output, whatever it exits with."""
    return subprocess.run(
        [str(n8n), *args],
        env=n8n_env(user_folder, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
