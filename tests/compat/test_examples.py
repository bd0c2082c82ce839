"""examples/compat/: modules in cadence-orchestration's documented style load, list and run with the
real ``cadence-studio`` in a subprocess, and their web apps answer on real servers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integrations.servers import serve_uvicorn, serve_werkzeug

ROOT = Path(__file__).resolve().parents[2]

#: module -> (the runnable entry, what the finished score holds)
EXAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "orders_fastapi": ("checkout_cadence", {"status": "'paid'", "total": "1350"}),
    "catalog_flask": ("catalog_cadence", {"total": "56"}),
    "reports": ("create_report_cadence", {"grand_total": "395", "summary": "'395 sold'"}),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the examples: `run` records into this project's .cadence/, never the repository's."""
    root = tmp_path_factory.mktemp("compat-project")
    shutil.copytree(ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def studio(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadence_studio", *args, "--cwd", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", sorted(EXAMPLES))
def test_list_lists_the_example_as_runnable(project: Path, module: str) -> None:
    """`cadence-studio list --json` loads the module and draws its entry (a graph, no arguments needed)."""
    done = studio(project, "list", f"examples/compat/{module}.py", "--json")
    assert done.returncode == 0, done.stderr
    entries = {e["name"]: e for e in json.loads(done.stdout)["entries"]}
    entry, _ = EXAMPLES[module]
    assert entries[entry]["graph"] is not None, entries[entry]


@pytest.mark.parametrize("module", sorted(EXAMPLES))
def test_run_runs_the_example_to_the_expected_score(project: Path, module: str) -> None:
    """`cadence-studio run --json` exits 0 and the final score holds what the notes computed."""
    entry, want = EXAMPLES[module]
    done = studio(project, "run", f"examples/compat/{module}.py:{entry}", "--json")
    assert done.returncode == 0, done.stderr
    ended = [json.loads(line) for line in done.stdout.splitlines() if '"run_ended"' in line][-1]
    assert ended["status"] == "done"
    fields = {name: child["r"] for name, child in ended["score"]["c"]}
    assert {k: fields[k] for k in want} == want
    assert (project / ".cadence").is_dir()  # recorded in the copy's history, not the repository's


def _load(module: str) -> Any:
    import importlib

    return importlib.import_module(f"examples.compat.{module}")


@pytest.fixture(scope="module")
def orders_url() -> Iterator[str]:
    with serve_uvicorn(_load("orders_fastapi").app, name="uvicorn-orders-compat") as url:
        yield url


async def test_orders_service_answers_on_each_route(orders_url: str) -> None:
    """The FastAPI example's router, with_cadence, cadence_endpoint and dependency routes all run
    the checkout, and the middleware's headers come back."""
    async with httpx.AsyncClient(base_url=orders_url, timeout=30) as client:
        routed = await client.post("/orders/o-1", params={"items": "lamp,pen"})
        assert routed.status_code == 200
        assert (routed.json()["total"], routed.json()["warnings"]) == (150, ["lamp is out of stock"])
        assert routed.headers["x-cadence-run-id"].startswith("req-")
        assert (await client.post("/quick/o-2")).json()["total"] == 150
        assert (await client.post("/demo")).json()["order_id"] == "ORD-123"
        receipt = await client.get("/receipt/o-3")
        assert receipt.json() == {"order_id": "o-3", "status": "paid", "total": 1350}


def test_catalog_service_answers_on_each_route() -> None:
    """The Flask example's blueprint, cadence_route, with_cadence and register_cadence routes on
    Werkzeug's threaded server; the extension's headers come back."""
    app = _load("catalog_flask").app
    with serve_werkzeug(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        shelf = client.post("/catalog/count/books")
        assert shelf.status_code == 200
        assert shelf.json()["shelves"] == ["books"]
        assert shelf.headers["x-cadence-run-id"].startswith("req-")
        assert client.post("/count").json()["total"] == 56
        assert client.get("/count-json").json()["counts"] == {"books": 15, "lamps": 1, "pens": 40}
        assert client.post("/demo").json()["empty"] == ["broad"]
