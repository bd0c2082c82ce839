"""The README's Mermaid diagrams render with the real Mermaid, and show what they are about."""

from __future__ import annotations

import re
from pathlib import Path

from tests._tools.renderers import MermaidRenderer

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```mermaid\n(.*?)^```", re.S | re.M)


def test_the_readme_diagram_of_the_two_processes_renders(mermaid: MermaidRenderer) -> None:
    """The "How it is built" diagram: accepted by Mermaid, naming both processes, protocol and store."""
    blocks = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, blocks
    labels = " ".join(mermaid.render(blocks[0]).labels)
    for part in ("studio process", "worker process", "protocol/", "store/", "the user's module"):
        assert part in labels, (part, labels)
