"""What scaffolding refuses, each with a message that names the problem and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cadence_studio.errors import ScaffoldError, StudioError
from cadence_studio.scaffold import writer as scaffold

from ._run import cadence


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("1abc", "starts with a digit"),
        ("class", "is a Python keyword"),
        ("a b", "is not a Python identifier (it contains ' ')"),
    ],
)
def test_bad_name_is_refused(tmp_path: Path, name: str, problem: str) -> None:
    """A name that is not a Python identifier: exit 2, the problem on stderr, nothing written."""
    done = cadence("new", "note", name, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {name!r} {problem}")
    assert done.stdout == ""
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "fix"), [("1abc", "'step_1abc'"), ("class", "'class_step'"), ("a b", "'a_b'")]
)
def test_bad_name_message_suggests_a_fix(name: str, fix: str) -> None:
    """identifier() refuses with a ScaffoldError (a StudioError) that suggests a name."""
    with pytest.raises(ScaffoldError, match=fix) as caught:
        scaffold.identifier(name)
    assert isinstance(caught.value, StudioError)


def test_kebab_case_is_converted() -> None:
    """identifier() turns kebab-case into snake_case and keeps what is already an identifier."""
    assert scaffold.identifier("process-payment") == "process_payment"
    assert scaffold.identifier(" charge_card ") == "charge_card"


@pytest.mark.parametrize("name", ["json", "cadence", "pytest", "test_me", "__init__"])
def test_names_that_would_hide_a_module_are_refused(tmp_path: Path, name: str) -> None:
    """A module named like the standard library, the engine or pytest's files would break imports."""
    with pytest.raises(ScaffoldError, match=r"pick another name|try '"):
        scaffold.new_note(name, directory=tmp_path, root=tmp_path)
    assert files_under(tmp_path) == []


def test_path_traversal_is_refused(tmp_path: Path) -> None:
    """`-o ../../x` leaves the current folder: refused, and nothing is written anywhere."""
    project = tmp_path / "a" / "project"
    project.mkdir(parents=True)
    done = cadence("new", "note", "x", "-o", "../../x", cwd=project)
    assert done.returncode == 2
    assert "'../../x' is outside" in done.stderr
    assert "write inside the project" in done.stderr
    assert files_under(tmp_path) == ["a", "a/project"]


def test_absolute_path_outside_the_root_is_refused(tmp_path: Path) -> None:
    """An absolute folder outside the root is refused like a relative one."""
    (tmp_path / "root").mkdir()
    with pytest.raises(ScaffoldError, match="is outside"):
        scaffold.new_cadence("flow", directory=tmp_path / "elsewhere", root=tmp_path / "root")
    assert files_under(tmp_path) == ["root"]


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    """A folder inside the root that links outside it is refused."""
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(ScaffoldError, match="is outside"):
        scaffold.new_note("x", directory=Path("link"), root=tmp_path / "root")
    assert files_under(tmp_path / "outside") == []


def test_existing_file_needs_force(tmp_path: Path) -> None:
    """An existing file is never overwritten without -f (nor is the test written); with -f it is."""
    (tmp_path / "x.py").write_text("mine\n")
    done = cadence("new", "note", "x", cwd=tmp_path)
    assert done.returncode == 2
    assert "exist already" in done.stderr
    assert "x.py" in done.stderr
    assert "--force" in done.stderr
    assert (tmp_path / "x.py").read_text() == "mine\n"
    assert files_under(tmp_path) == ["x.py"]
    forced = cadence("new", "note", "x", "-f", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "@note" in (tmp_path / "x.py").read_text()
    assert files_under(tmp_path) == ["test_x.py", "x.py"]


def test_unknown_template_kind_is_refused(tmp_path: Path) -> None:
    """An unknown kind names the kinds there are and how to add one."""
    found = r"unknown template kind 'widget' \(found: 'cadence', 'frozen', 'note'"
    with pytest.raises(ScaffoldError, match=found):
        scaffold.render("widget", Path(), {"name": "x"}, root=tmp_path)
    assert files_under(tmp_path) == []


def test_bad_options_are_refused(tmp_path: Path) -> None:
    """Zero retries and a non-positive timeout are refused before anything is written."""
    assert cadence("new", "note", "x", "--retry", "0", cwd=tmp_path).returncode == 2
    done = cadence("new", "note", "x", "--timeout", "-1", cwd=tmp_path)
    assert done.returncode == 2
    assert "positive number of seconds" in done.stderr
    assert files_under(tmp_path) == []


def test_bad_project_name_is_refused(tmp_path: Path) -> None:
    """`init` refuses a project name that is no distribution name, and says to use --name."""
    done = cadence("init", "--name", "my shop", cwd=tmp_path)
    assert done.returncode == 2
    assert "--name" in done.stderr
    assert files_under(tmp_path) == []


def test_missing_variable_leaves_no_partial_files(tmp_path: Path) -> None:
    """A template whose variable has no value fails, naming it, before any file or folder is made."""
    templates = tmp_path / "templates"
    (templates / "broken" / "sub").mkdir(parents=True)
    (templates / "broken" / "a.txt").write_text("fine: $name\n")
    (templates / "broken" / "sub" / "b.txt").write_text("not fine: ${missing}\n")
    target = tmp_path / "out"
    with pytest.raises(ScaffoldError, match=r"uses \$missing but no value was given for 'missing'"):
        scaffold.render("broken", target, {"name": "x"}, root=tmp_path, templates=templates)
    assert not target.exists()


def test_failed_write_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails midway removes the new files and folders and restores what it overwrote."""
    templates = tmp_path / "templates"
    (templates / "pair" / "deep").mkdir(parents=True)
    (templates / "pair" / "a.txt").write_text("new a\n")
    (templates / "pair" / "deep" / "b.txt").write_text("new b\n")
    (templates / "pair" / "z.txt").write_text("new z\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("old a\n")
    os.chmod(root / "a.txt", 0o640)
    calls: list[Path] = []
    commit = scaffold._commit

    def flaky(temp: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(target))
        commit(temp, target)

    monkeypatch.setattr(scaffold, "_commit", flaky)
    with pytest.raises(ScaffoldError, match="nothing was written"):
        scaffold.render("pair", Path(), {}, root=root, force=True, templates=templates)
    assert len(calls) == 3
    assert files_under(root) == ["a.txt"]
    assert (root / "a.txt").read_text() == "old a\n"
    assert (root / "a.txt").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "command",
    [
        ["new", "note", "n" * 300],
        ["new", "cadence", "c" * 300],
        ["init", "p" * 300],
        ["init", "x", "--name", "p" * 300],
    ],
)
def test_a_name_too_long_is_refused_before_any_write(tmp_path: Path, command: list[str]) -> None:
    """A 300-character name: exit 2, "too long ... at most 100" on stderr, no traceback, nothing written."""
    done = cadence(*command, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "is too long (300 characters, at most 100)" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert files_under(tmp_path) == []


def test_the_longest_name_is_written(tmp_path: Path) -> None:
    """A name of exactly MAX_NAME characters is still a note, and its test file fits."""
    name = "n" * scaffold.MAX_NAME
    done = cadence("new", "note", name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert files_under(tmp_path) == [f"{name}.py", f"test_{name}.py"]


@pytest.mark.parametrize("command", [["new", "note", "ok", "-o"], ["new", "cadence", "ok", "-o"], ["init"]])
def test_a_folder_name_too_long_is_refused_before_any_write(tmp_path: Path, command: list[str]) -> None:
    """A folder name longer than file systems allow (-o, init's DIR): exit 2, a message, no file."""
    done = cadence(*command, f"x/{'f' * 300}/y", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "the folder name 'ffffffffffffffffffff…' is too long (300 bytes, at most 255)" in done.stderr
    assert "Traceback" not in done.stderr
    assert files_under(tmp_path) == []
