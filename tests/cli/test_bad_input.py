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


# ---------------------------------------------------------------------------- --arg, --break-at

MODULE = """
from dataclasses import dataclass
from pathlib import Path

from cadence import Cadence, Score


@dataclass
class S(Score):
    n: int = 0


def first(score: S) -> None:
    Path(__file__).with_name("ran.txt").write_text("the first note ran")


def second(score: S) -> None:
    score.n += 1


plain = Cadence("plain", S()).then("first", first).then("second", second)


def make(user_id: str) -> Cadence[S]:
    return Cadence("made", S()).then("first", first).then("second", second)
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A module with a cadence and a factory needing an argument; its first note leaves ran.txt."""
    (tmp_path / "mod.py").write_text(MODULE)
    return tmp_path


def test_arg_on_a_cadence_is_refused_naming_the_factories(module: Path) -> None:
    """`run mod.py:plain --arg x=1`: exit 2, "not a factory", the module's factory named; nothing runs."""
    done = run("cadence-studio", "run", "mod.py:plain", "--arg", "x=1", cwd=module)
    refused(done, "'plain' is a cadence, not a factory", "'x'", "mod.py:make", "factories: make")
    assert not (module / "ran.txt").exists()
    assert done.stdout == ""


def test_unknown_break_at_is_refused_listing_the_node_ids(module: Path) -> None:
    """`--break-at nope`: exit 2, the valid node ids listed, the nearest first; nothing runs."""
    done = run("cadence-studio", "run", "mod.py:plain", "--break-at", "plain/secnd", cwd=module)
    refused(done, "--break-at 'plain/secnd'", "did you mean 'plain/second'?", "plain/first")
    assert done.stderr.index("plain/second") < done.stderr.index("plain/first")
    assert not (module / "ran.txt").exists()
    shop = run("cadence-studio", "run", SHOP + ":checkout", "--break-at", "nope", "--no-history", cwd=module)
    refused(shop, "'nope'", "checkout/pricing/compute_total", "checkout/payment/authorize_payment")
    assert "✓" not in shop.stdout


def test_unknown_break_at_of_a_factory_is_refused_before_its_first_note(module: Path) -> None:
    """A factory's graph is known once built with --arg: a wrong id still stops the run before any note."""
    done = run(
        "cadence-studio", "run", "mod.py:make", "--arg", "user_id=u-1", "--break-at", "made/secnd", cwd=module
    )
    refused(done, "--break-at 'made/secnd'", "did you mean 'made/second'?")
    assert not (module / "ran.txt").exists()


@pytest.mark.parametrize("node", ["made/first", "made/second"])
def test_break_at_of_a_factory_pauses_there_once(module: Path, node: str) -> None:
    """A valid id of a factory's cadence pauses there, once, and nowhere else; the run succeeds."""
    done = run("cadence-studio", "run", "mod.py:make", "--arg", "user_id=u-1", "--break-at", node, cwd=module)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if "paused" in line] == [
        f"⏸ paused before {node} (note); score: S(n=0)"
    ]
    assert "run done" in done.stdout


# ---------------------------------------------------------------------------- targets that are not Python


def test_a_target_that_is_not_a_python_file(tmp_path: Path) -> None:
    """`run notpy.txt`: "not a Python file"; a missing file: "no file"; exit 2 for both, no studio paths."""
    (tmp_path / "notpy.txt").write_text("hello\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("# notes\n")
    for target in ("notpy.txt", "docs/notes.md"):
        done = run("cadence-studio", "run", target, cwd=tmp_path)
        refused(done, f"{target!r} is not a Python file", "hint: point at the .py file")
        assert "cadence_studio" not in done.stderr
    missing = run("cadence-studio", "run", "missing.py", cwd=tmp_path)
    refused(missing, "no file 'missing.py'")
    assert "cadence_studio" not in missing.stderr
    validated = run("cadence", "validate", "notpy.txt", cwd=tmp_path)
    refused(validated, "'notpy.txt' is not a Python file")


# ---------------------------------------------------------------------------- score errors


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("{bad json", "not JSON"),
        ('{"unknown_field": 1}', "field 'unknown_field': unknown field"),
        ('{"n": "lots"}', "field 'n': Input should be a valid integer"),
        ("[1]", "must be a JSON object"),
    ],
)
def test_score_errors_are_printed_once_with_exit_2(module: Path, score: str, message: str) -> None:
    """A bad --score: the reason once on stderr, exit 2, no traceback and no studio file:line."""
    done = run("cadence-studio", "run", "mod.py:plain", "--score", score, cwd=module)
    refused(done, message)
    assert done.stderr.count(message) == 1, done.stderr
    assert "cadence_studio" not in done.stderr
    assert "run refused" not in done.stdout
    assert not (module / "ran.txt").exists()


def test_factory_argument_errors_exit_2(module: Path) -> None:
    """A factory's missing or unknown argument is bad input too: once, exit 2."""
    missing = run("cadence-studio", "run", "mod.py:make", cwd=module)
    refused(missing, "make() needs the argument 'user_id'")
    assert missing.stderr.count("needs the argument") == 1
    unknown = run("cadence-studio", "run", "mod.py:make", "--arg", "user_id=u", "--arg", "who=x", cwd=module)
    refused(unknown, "make() has no parameter(s) 'who'")
