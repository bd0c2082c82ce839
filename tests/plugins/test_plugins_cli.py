"""Installed plugins (entry points of `cadence.cadences`) through `cadence-studio` of a real venv:
list --installed, run, disable/enable in a pyproject.toml or .cadence/settings.toml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import PluginEnv

PYPROJECT = """\
# the team's service (a comment the edit must keep)
[project]
name = "service"   # its name
version = "0.1.0"

[tool.cadence]
# where runs go
backend = "local"    # local, for now
namespace = "shop"

# settings of another tool follow
[tool.other]
keep = ["this", "as it is"]
"""


def test_list_installed_names_each_plugin_its_package_kind_and_cadences(
    plugin_env: PluginEnv, tmp_path: Path
) -> None:
    """Every entry point is listed with its package, version, value, kind and cadences; the broken ones
    (an import error with file:line, a missing attribute, a value that is no cadence) are reported by
    name and package while the others load; exit 1 says one is broken."""
    done = plugin_env.run("list", "--installed", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert "orders  cadence-shop-plugin 1.2.0  shopplug.cadences:checkout  cadence" in lines
    assert "  orders  run: cadence-studio run @orders" in lines
    assert "refunds  cadence-shop-plugin 1.2.0  shopplug.cadences:make_refund  factory" in lines
    assert "shop  cadence-shop-plugin 1.2.0  shopplug.cadences  module" in lines
    assert "  checkout  run: cadence-studio run @shop:checkout" in lines
    assert "  make_refund  factory  run: cadence-studio run @shop:make_refund" in lines
    assert "explodes  cadence-broken-plugin 0.3.0  brokenplug.bad  BROKEN" in lines
    explodes = lines[lines.index("explodes  cadence-broken-plugin 0.3.0  brokenplug.bad  BROKEN") + 1]
    assert "importing 'brokenplug.bad' raised RuntimeError: payment gateway not configured" in explodes
    assert explodes.endswith("brokenplug/bad.py:3)"), explodes
    assert "ghost  cadence-broken-plugin 0.3.0  brokenplug.ok:missing  BROKEN" in lines
    assert "  error: 'brokenplug.ok' has no attribute 'missing'" in lines
    assert "number  cadence-broken-plugin 0.3.0  brokenplug.ok:NOT_A_CADENCE  BROKEN" in lines
    assert any("NOT_A_CADENCE is int, not a Cadence" in line for line in lines)
    assert "6 installed, 0 disabled, 3 broken" in done.stdout

    as_json = plugin_env.run("list", "--installed", "--json", cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(as_json.stdout)}
    assert sorted(rows) == ["explodes", "ghost", "number", "orders", "refunds", "shop"]
    assert rows["shop"]["kind"] == "module"
    assert rows["shop"]["package"] == "cadence-shop-plugin"
    assert rows["shop"]["version"] == "1.2.0"
    assert rows["shop"]["targets"] == ["@shop:checkout", "@shop:make_refund"]
    assert rows["orders"]["kind"] == "cadence"
    assert rows["refunds"]["kind"] == "factory"
    error = rows["explodes"]["error"]
    assert error["file"].endswith("brokenplug/bad.py")
    assert error["line"] == 3
    assert rows["explodes"]["kind"] is None


def test_run_a_plugin_by_name_and_a_broken_or_unknown_one_is_refused(
    plugin_env: PluginEnv, tmp_path: Path
) -> None:
    """`run @NAME` runs a cadence or factory plugin, `@NAME:cadence` one of a module plugin, `@:NAME`
    one of the `@` catalog; a broken or unknown plugin exits 2 naming it."""
    for target in ("@orders", "@shop:checkout", "@:orders", "@refunds"):
        done = plugin_env.run("run", target, "--no-history", cwd=tmp_path)
        assert done.returncode == 0, (target, done.stderr)
        assert "total = 500" in done.stdout, target
    broken = plugin_env.run("run", "@explodes", "--no-history", cwd=tmp_path)
    assert broken.returncode == 2
    assert "plugin 'explodes' (cadence-broken-plugin 0.3.0) cannot be loaded" in broken.stderr
    assert "brokenplug/bad.py:3" in broken.stderr
    unknown = plugin_env.run("run", "@nope", "--no-history", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "no installed plugin 'nope' (installed: 'explodes', 'ghost', 'number', 'orders'" in unknown.stderr


def test_disable_and_enable_round_trip_in_pyproject_keeps_the_file(
    plugin_env: PluginEnv, tmp_path: Path
) -> None:
    """disable adds the name to [tool.cadence] disabled (comments and the rest byte for byte), list shows
    it disabled, run refuses it saying how to enable it; enable restores the file exactly."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)

    done = plugin_env.run("disable", "orders", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "disabled plugin 'orders' (cadence-shop-plugin 1.2.0)" in done.stdout
    assert "cadence-studio enable orders" in done.stdout
    edited = pyproject.read_text()
    assert edited == PYPROJECT.replace(
        'namespace = "shop"\n', 'namespace = "shop"\ndisabled = ["orders"]\n'
    ), edited

    again = plugin_env.run("disable", "orders", cwd=tmp_path)
    assert again.returncode == 0
    assert "already disabled" in again.stdout
    assert pyproject.read_text() == edited

    listed = plugin_env.run("list", "--installed", cwd=tmp_path)
    state = "disabled (cadence-studio enable orders)"
    assert (
        f"orders  cadence-shop-plugin 1.2.0  shopplug.cadences:checkout  {state}"
        in listed.stdout.splitlines()
    )
    assert "6 installed, 1 disabled, 3 broken" in listed.stdout
    rows = {
        row["name"]: row
        for row in json.loads(plugin_env.run("list", "--installed", "--json", cwd=tmp_path).stdout)
    }
    assert rows["orders"]["disabled"] is True
    assert rows["shop"]["disabled"] is False

    for target in ("@orders", "@:orders"):
        refused = plugin_env.run("run", target, "--no-history", cwd=tmp_path)
        assert refused.returncode == 2, target
        assert "plugin 'orders' (cadence-shop-plugin 1.2.0) is disabled for this project" in refused.stderr
        assert f"{pyproject} [tool.cadence] disabled" in refused.stderr
        assert "hint: enable it: cadence-studio enable orders" in refused.stderr
    other = plugin_env.run("run", "@shop:checkout", "--no-history", cwd=tmp_path)
    assert other.returncode == 0, other.stderr

    unknown = plugin_env.run("disable", "ordres", cwd=tmp_path)
    assert unknown.returncode == 2
    assert (
        "no installed plugin 'ordres'; installed: 'explodes' (cadence-broken-plugin 0.3.0)" in unknown.stderr
    )
    assert "'orders' (cadence-shop-plugin 1.2.0)" in unknown.stderr
    assert pyproject.read_text() == edited

    enabled = plugin_env.run("enable", "orders", cwd=tmp_path)
    assert enabled.returncode == 0, enabled.stderr
    assert "enabled plugin 'orders'" in enabled.stdout
    assert pyproject.read_text() == PYPROJECT
    twice = plugin_env.run("enable", "orders", cwd=tmp_path)
    assert twice.returncode == 0
    assert "already enabled" in twice.stdout
    assert plugin_env.run("enable", "nope", cwd=tmp_path).returncode == 2
    ran = plugin_env.run("run", "@orders", "--no-history", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr


def test_without_a_pyproject_the_list_lives_in_cadence_settings(
    plugin_env: PluginEnv, tmp_path: Path
) -> None:
    """A folder with no pyproject.toml keeps `disabled` in .cadence/settings.toml; `@` then leaves the
    plugin out, unimported."""
    done = plugin_env.run("disable", "explodes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    settings = tmp_path / ".cadence" / "settings.toml"
    assert settings.read_text() == 'disabled = ["explodes"]\n'
    listed = plugin_env.run("list", "--installed", "--json", cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["explodes"]["disabled"] is True
    assert rows["explodes"]["error"] is None  # not imported, so it did not fail
    assert plugin_env.run("enable", "explodes", cwd=tmp_path).returncode == 0
    assert settings.read_text() == ""


def test_no_target_opens_the_plugins_and_help_still_works(plugin_env: PluginEnv, tmp_path: Path) -> None:
    """`cadence-studio` alone means `open @` where plugins are installed; --help lists disable/enable;
    where none are installed (this project's own venv) it prints the help."""
    helped = plugin_env.run("--help", cwd=tmp_path)
    assert helped.returncode == 0
    for command in ("open", "list", "disable", "enable"):
        assert command in helped.stdout
    code = "from cadence_studio.cli.plugin_commands import no_target_args; print(no_target_args())"
    here = subprocess.run(
        [str(plugin_env.python), "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert here.stdout.strip() == "['open', '@']"
    bare = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert bare.stdout.strip() == "[]"
    assert "no installed plugins" in bare.stderr
