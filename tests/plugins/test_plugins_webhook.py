"""`cadence-studio webhook` (no TARGET: the installed plugins) honours the project's disabled list."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.webhook.serving import webhook

from .conftest import PluginEnv


def test_the_webhook_serves_the_enabled_plugins_only(plugin_env: PluginEnv, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n\n[tool.cadence]\ndisabled = ["orders"]\n'
    )
    with webhook(tmp_path, program=[str(plugin_env.studio)]) as server:
        listing = httpx.get(f"{server.base}/cadences").json()
        refund = httpx.post(f"{server.base}/cadences/refunds", params={"reason": "late"})
        disabled = httpx.post(f"{server.base}/cadences/orders")
    names = {c["name"] for c in listing["cadences"]}
    assert "orders" not in names
    assert {"refunds", "shop.checkout"} <= names
    assert refund.status_code == 200, refund.text
    assert refund.json()["score"]["total"] == 500
    assert disabled.status_code == 404
    banner = "".join(server.banner)
    assert "disabled here, not served: 'orders'" in banner
    assert "warning: plugin 'explodes'" in banner  # broken plugins are named; the others are served
