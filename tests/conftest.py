"""Fixtures shared by the test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._tools.renderers import MermaidRenderer


@pytest.fixture(scope="session")
def mermaid() -> Iterator[MermaidRenderer]:
    """One real Mermaid renderer (chromium) for the whole session."""
    renderer = MermaidRenderer()
    yield renderer
    renderer.close()
