"""`cadence-studio export --with-run`: the diagram marks the notes that retried (↻2) or fell back (↪)."""

from __future__ import annotations

from pathlib import Path

from tests._tools.renderers import MermaidRenderer, dot_labels, run_dot
from tests.cli.test_studio_cli import studio


def test_export_with_a_run_marks_retries_and_fallbacks(tmp_path: Path, mermaid: MermaidRenderer) -> None:
    """examples/shop.py's run retries authorize_payment once and quote_shipping falls back (freight)."""
    dot_file, mermaid_file = tmp_path / "run.dot", tmp_path / "run.mmd"
    for out in (dot_file, mermaid_file):
        done = studio("export", "examples/shop.py:checkout", "--with-run", "-o", str(out))
        assert done.returncode == 0, done.stderr
    by_name = {lines[0]: lines for lines in dot_labels(run_dot(dot_file.read_text())).values() if lines}
    assert by_name["authorize_payment"][-1].endswith(" ↻2")
    assert by_name["quote_shipping"][-1].endswith(" ↪")
    assert "↻" not in by_name["capture_payment"][-1]
    labels = mermaid.render(mermaid_file.read_text()).labels
    assert any(label.startswith("authorize_payment\n") and label.endswith(" ↻2") for label in labels)
    assert any(label.startswith("quote_shipping\n") and label.endswith(" ↪") for label in labels)
