"""`cadence-studio export-n8n TARGET -o workflow.json`: workflows that real n8n (2.8.4) imports and runs
against a real `cadence-studio webhook`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .n8n import run_n8n
from .serving import ORDERS, webhook


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "orders.py").write_text(ORDERS)
    return tmp_path


def _export(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", "export-n8n", *args, "--cwd", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_one_workflow_per_cadence_with_a_trigger_and_a_request_named_after_it(project: Path) -> None:
    done = _export(project, "orders.py", "-o", "workflow.json", "--url", "http://127.0.0.1:9001/")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr
    assert "make_checkout() needs 'region'" in done.stderr  # a required argument to fill in
    flows = json.loads((project / "workflow.json").read_text())
    assert [f["name"] for f in flows] == ["Cadence: checkout", "Cadence: make_checkout"]
    checkout = flows[0]
    assert len(checkout["id"]) == 16
    assert checkout["settings"] == {"executionOrder": "v1"}
    trigger, request = checkout["nodes"]
    assert (trigger["name"], trigger["type"]) == ("Run checkout", "n8n-nodes-base.manualTrigger")
    assert (request["name"], request["type"]) == ("checkout", "n8n-nodes-base.httpRequest")
    assert request["parameters"]["url"] == "http://127.0.0.1:9001/cadences/checkout"
    assert json.loads(request["parameters"]["jsonBody"]) == {
        "order_id": "o-1",
        "quantity": 1,
        "unit_price": 250,
        "tags": [],
        "fail": False,
        "total": 0,
    }
    assert checkout["connections"] == {
        "Run checkout": {"main": [[{"node": "checkout", "type": "main", "index": 0}]]}
    }
    query = flows[1]["nodes"][1]["parameters"]["queryParameters"]["parameters"]
    assert query == [{"name": "region", "value": ""}, {"name": "discount", "value": "0"}]
    # one cadence: one workflow object (what n8n's Import from File reads); the same id every time
    single = _export(project, "orders.py:checkout", "-o", "one.json")
    assert single.returncode == 0, single.stderr
    alone = json.loads((project / "one.json").read_text())
    assert alone["id"] == checkout["id"]
    assert alone["nodes"][1]["parameters"]["url"] == "http://127.0.0.1:8000/cadences/checkout"


def test_it_refuses_to_overwrite_without_force_and_to_write_outside_the_project(project: Path) -> None:
    (project / "workflow.json").write_text("keep me")
    again = _export(project, "orders.py", "-o", "workflow.json")
    assert again.returncode == 2
    assert "exist already: " in again.stderr
    assert "--force" in again.stderr
    assert (project / "workflow.json").read_text() == "keep me"
    forced = _export(project, "orders.py", "-o", "workflow.json", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((project / "workflow.json").read_text())[0]["name"] == "Cadence: checkout"
    outside = _export(project, "orders.py", "-o", "../elsewhere.json")
    assert outside.returncode == 2
    assert "is outside" in outside.stderr
    assert not (project.parent / "elsewhere.json").exists()
    bad_url = _export(project, "orders.py", "-o", "x.json", "--url", "127.0.0.1:8000")
    assert bad_url.returncode == 2
    assert "is not an http(s) URL" in bad_url.stderr


@pytest.mark.timeout(1800)  # the first session installs n8n from npm (~3 min, longer on a busy machine)
def test_n8n_imports_the_export(project: Path, n8n: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    done = _export(project, "orders.py", "-o", "workflow.json")
    assert done.returncode == 0, done.stderr
    ids = {f["name"]: f["id"] for f in json.loads((project / "workflow.json").read_text())}
    home = tmp_path_factory.mktemp("n8n-home")
    imported = run_n8n(n8n, home, "import:workflow", f"--input={project / 'workflow.json'}")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "Successfully imported 2 workflows" in imported.stdout + imported.stderr
    listed = run_n8n(n8n, home, "list:workflow")
    assert listed.returncode == 0, listed.stderr
    assert f"{ids['Cadence: checkout']}|Cadence: checkout" in listed.stdout
    assert f"{ids['Cadence: make_checkout']}|Cadence: make_checkout" in listed.stdout


@pytest.mark.timeout(1800)
def test_n8n_runs_the_workflow_against_the_webhook(
    project: Path, n8n: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("n8n-home")
    with webhook(project, "orders.py", "--token", "n8n-secret") as server:
        done = _export(
            project, "orders.py:checkout", "-o", "workflow.json", "--url", server.base, "--token-env"
        )
        assert done.returncode == 0, done.stderr
        flow = json.loads((project / "workflow.json").read_text())
        imported = run_n8n(n8n, home, "import:workflow", f"--input={project / 'workflow.json'}")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        ran = run_n8n(
            n8n,
            home,
            "execute",
            f"--id={flow['id']}",
            env={"CADENCE_WEBHOOK_TOKEN": "n8n-secret", "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false"},
        )
        # the same workflow with the body edited in n8n's way (its JSON text) to make the note fail
        flow["nodes"][1]["parameters"]["jsonBody"] = json.dumps({"fail": True, "order_id": "o-n8n"})
        (project / "failing.json").write_text(json.dumps(flow))
        run_n8n(n8n, home, "import:workflow", f"--input={project / 'failing.json'}")
        failed = run_n8n(
            n8n,
            home,
            "execute",
            f"--id={flow['id']}",
            env={"CADENCE_WEBHOOK_TOKEN": "n8n-secret", "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false"},
        )
    assert failed.returncode != 0, failed.stdout + failed.stderr
    assert "no such order o-n8n" in failed.stdout + failed.stderr
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert '"status": "done"' in output or '"status":"done"' in output, output
    assert '"tags": [\n' in output or "priced" in output, output
    log = "".join(server.output)
    assert 'POST /cadences/checkout HTTP/1.1" 200' in log
    assert 'POST /cadences/checkout HTTP/1.1" 500' in log
    runs = subprocess.run(
        [sys.executable, "-m", "cadence_studio", "history", "--json", "--cwd", str(project)],
        capture_output=True,
        text=True,
        check=True,
    )
    history = json.loads(runs.stdout)
    assert [(r["entry"], r["status"]) for r in history] == [("checkout", "failed"), ("checkout", "done")]


def test_on_ci_a_machine_without_node_fails_the_n8n_tests_instead_of_skipping(tmp_path: Path) -> None:
    """CI=true with no node/npm (and no n8n installed yet): the n8n tests fail, naming what to install."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PATH", "XDG_CACHE_HOME")},
        "PATH": str(tmp_path / "empty-bin"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CI": "true",
    }
    root = Path(__file__).resolve().parents[2]
    test = "tests/webhook/test_n8n_export.py::test_n8n_imports_the_export"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout or "1 failed" in done.stdout, done.stdout
    assert "CI=true and n8n cannot be installed: node and npm not found" in done.stdout
    assert "skipped" not in done.stdout
