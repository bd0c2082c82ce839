"""Fixtures of the webhook and n8n tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .n8n import N8nMissing, install_n8n


@pytest.fixture(scope="session")
def n8n() -> Path:
    """The real n8n executable (installed once into the user's cache folder: ~3 min the first time).

    Without node or npm the n8n tests are skipped on a developer's machine, and FAIL on CI (CI=true),
    whose .ci/run installs them.
    """
    try:
        return install_n8n()
    except N8nMissing as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and n8n cannot be installed: {missing}", pytrace=False)
        pytest.skip(f"n8n cannot be installed: {missing}")
