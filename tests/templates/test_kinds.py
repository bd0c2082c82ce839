"""Where templates come from, and how a new kind is added: a folder, no code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import cadence_studio
from cadence_studio.scaffold import writer as scaffold

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_templates_come_from_the_repository_in_a_checkout() -> None:
    """Without templates inside the package (a wheel), the repository's templates/ is used."""
    assert not (Path(cadence_studio.__file__).parent / "templates").exists()
    assert scaffold.templates_dir() == REPO_TEMPLATES


def test_a_new_template_folder_is_a_new_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder added to the templates is listed and rendered, names and .tmpl suffix included."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO_TEMPLATES, templates)
    (templates / "hook" / "$name").mkdir(parents=True)
    (templates / "hook" / "$name" / "${name}_hook.py.tmpl").write_text('"""Hook $name costs $$5."""\n')
    monkeypatch.setattr(scaffold, "templates_dir", lambda: templates)
    assert scaffold.template_kinds() == ["cadence", "frozen", "hook", "note", "project", "test"]
    written = scaffold.render("hook", Path("out"), {"name": "audit"}, root=tmp_path)
    assert written == [tmp_path / "out" / "audit" / "audit_hook.py"]
    assert written[0].read_text() == '"""Hook audit costs $5."""\n'


def test_hidden_files_and_caches_are_not_rendered(tmp_path: Path) -> None:
    """Editor and interpreter leftovers in a template folder stay out of the output."""
    (tmp_path / "t" / "kind" / "__pycache__").mkdir(parents=True)
    (tmp_path / "t" / "kind" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / "t" / "kind" / ".x.swp").write_text("")
    (tmp_path / "t" / "kind" / "kept.txt").write_text("$name\n")
    written = scaffold.render("kind", Path("out"), {"name": "n"}, root=tmp_path, templates=tmp_path / "t")
    assert written == [tmp_path / "out" / "kept.txt"]
