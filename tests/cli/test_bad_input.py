"""Bad input on the command lines: a clear message on stderr, exit code 2, nothing run or created."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOP = str(ROOT / "examples" / "shop.py")


def run(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script ``tool`` (``cadence-studio`` or ``cadence``), as a user runs it."""
    return subprocess.run(
        [str(BIN / tool), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": str(BIN), "HOME": str(cwd)},
    )


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 2, every word on stderr, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in done.stderr, (word, done.stderr)


# ---------------------------------------------------------------------------- --cwd of a missing folder


@pytest.mark.parametrize(
    "args",
    [
        ["--cwd", "{missing}", SHOP],  # the TUI, options first
        [SHOP, "--cwd", "{missing}"],  # the TUI, target first
        ["open", SHOP, "--cwd", "{missing}"],
        ["list", SHOP, "--cwd", "{missing}"],
        ["run", SHOP + ":checkout", "--cwd", "{missing}"],
        ["export", SHOP + ":checkout", "-o", "x.mmd", "--cwd", "{missing}"],
        ["history", "--cwd", "{missing}"],
        ["history", "show", "1", "--cwd", "{missing}"],
    ],
)
def test_studio_refuses_a_missing_cwd_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    """Every `cadence-studio` command with --cwd: exit 2 naming the folder; the folder is not created."""
    missing = tmp_path / "no" / "such"
    done = run("cadence-studio", *(a.replace("{missing}", str(missing)) for a in args), cwd=tmp_path)
    refused(done, "no folder", "does not exist")
    assert not (tmp_path / "no").exists()
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["validate", SHOP], ["diagram", SHOP + ":checkout"]])
def test_cadence_refuses_a_missing_cwd(tmp_path: Path, command: list[str]) -> None:
    """`cadence validate|diagram --cwd MISSING`: exit 2 naming the folder; a file is refused too."""
    missing = tmp_path / "no" / "such"
    refused(run("cadence", *command, "--cwd", str(missing), cwd=tmp_path), "no folder", "does not exist")
    assert not (tmp_path / "no").exists()
    (tmp_path / "file.txt").write_text("")
    refused(run("cadence", *command, "--cwd", "file.txt", cwd=tmp_path), "no folder", "it is a file")
