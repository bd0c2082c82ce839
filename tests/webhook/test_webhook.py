"""`cadence-studio webhook TARGET`: a real uvicorn server in its own process, called with httpx."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .serving import ORDERS, command, webhook


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "orders.py").write_text(ORDERS)
    return tmp_path


def _history(project: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "cadence_studio", "history", "--json", "--cwd", str(project)],
        capture_output=True,
        text=True,
        check=True,
    )
    runs: list[dict[str, object]] = json.loads(done.stdout)
    return runs


def test_routes_are_listed_with_their_schemas_and_docs(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        listing = httpx.get(f"{server.base}/cadences").json()
        docs = httpx.get(f"{server.base}/docs")
        openapi = httpx.get(f"{server.base}/openapi.json").json()
    by_name = {c["name"]: c for c in listing["cadences"]}
    assert set(by_name) == {"checkout", "make_checkout"}
    checkout = by_name["checkout"]
    assert checkout["route"] == "/cadences/checkout"
    assert checkout["schema"]["properties"]["quantity"]["type"] == "integer"
    assert checkout["example"]["unit_price"] == 250
    assert [a["name"] for a in by_name["make_checkout"]["args"]] == ["region", "discount"]
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    body_schema = openapi["paths"]["/cadences/checkout"]["post"]["requestBody"]["content"]["application/json"]
    assert body_schema["schema"]["properties"]["order_id"]["type"] == "string"
    assert "POST http://127.0.0.1:" in "".join(server.banner)


def test_the_body_is_the_initial_score_and_the_answer_the_final_one(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        given = httpx.post(f"{server.base}/cadences/checkout", json={"quantity": "3", "order_id": "o-9"})
        default = httpx.post(f"{server.base}/cadences/checkout")
        again = httpx.post(f"{server.base}/cadences/checkout")
    assert given.status_code == 200, given.text
    body = given.json()
    assert body["cadence"] == "checkout"
    assert body["status"] == "done"
    assert body["score"]["total"] == 750  # "3" validated into 3 by pydantic
    assert body["score"]["order_id"] == "o-9"
    assert body["score"]["tags"] == ["priced"]
    # no body: the construction score, a fresh copy each time (nothing carries over between requests)
    assert default.json()["score"]["total"] == 250
    assert again.json()["score"]["tags"] == ["priced"]


def test_a_factory_takes_its_arguments_as_query_parameters(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        made = httpx.post(
            f"{server.base}/cadences/make_checkout", params={"region": "EU", "discount": "50"}, json={}
        )
        missing = httpx.post(f"{server.base}/cadences/make_checkout")
        not_a_factory = httpx.post(f"{server.base}/cadences/checkout", params={"region": "EU"})
        bad_score = httpx.post(
            f"{server.base}/cadences/make_checkout", params={"region": "EU"}, json={"quantity": [1]}
        )
    assert made.status_code == 200, made.text
    assert made.json()["score"]["tags"] == ["EU"]
    assert made.json()["score"]["total"] == 200
    assert missing.status_code == 422
    detail = missing.json()["detail"][0]
    assert detail["loc"] == ["query", "region"]
    assert "region" in detail["fix"]
    assert not_a_factory.status_code == 422
    assert "takes no query parameters" in not_a_factory.json()["message"]
    assert bad_score.status_code == 422
    assert bad_score.json()["detail"][0]["expected"] == "integer"


def test_a_bad_body_is_a_422_naming_the_field_the_type_and_the_fix(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        wrong = httpx.post(f"{server.base}/cadences/checkout", json={"quantity": "many", "tags": "x"})
        unknown = httpx.post(f"{server.base}/cadences/checkout", json={"qty": 2})
        not_json = httpx.post(
            f"{server.base}/cadences/checkout", content=b"{nope", headers={"content-type": "application/json"}
        )
        a_list = httpx.post(f"{server.base}/cadences/checkout", json=[1, 2])
    assert wrong.status_code == 422
    by_field = {d["field"]: d for d in wrong.json()["detail"]}
    assert set(by_field) == {"quantity", "tags"}
    assert by_field["quantity"]["loc"] == ["body", "quantity"]
    assert by_field["quantity"]["expected"] == "integer"
    assert "valid integer" in by_field["quantity"]["msg"]
    assert "send 'quantity' as integer" in by_field["quantity"]["fix"]
    assert by_field["tags"]["expected"] == "array of string"
    assert unknown.status_code == 422
    (qty,) = unknown.json()["detail"]
    assert qty["field"] == "qty"
    assert "unknown field" in qty["msg"]
    assert "leave 'qty' out" in qty["fix"]
    assert not_json.status_code == 422
    assert "not JSON" in not_json.json()["detail"][0]["msg"]
    assert a_list.status_code == 422
    assert "JSON object" in a_list.json()["detail"][0]["msg"]


def test_a_failing_note_answers_500_naming_the_note_the_error_type_and_message(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        failed = httpx.post(f"{server.base}/cadences/checkout", json={"fail": True, "order_id": "o-404"})
    assert failed.status_code == 500
    body = failed.json()
    assert body["status"] == "failed"
    assert body["error"] == {
        "code": "NOTE_ERROR",
        "note": "check",
        "type": "LookupError",
        "message": "no such order o-404",
    }
    assert body["score"]["total"] == 250  # the score as it stood: price ran, tag did not
    assert body["score"]["tags"] == []


def test_each_run_is_recorded_in_the_project_history(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        assert httpx.post(f"{server.base}/cadences/checkout", json={"quantity": 2}).status_code == 200
        assert httpx.post(f"{server.base}/cadences/checkout", json={"fail": True}).status_code == 500
        assert httpx.post(f"{server.base}/cadences/checkout", json={"quantity": "x"}).status_code == 422
    runs = _history(project)
    assert [(r["entry"], r["status"]) for r in runs] == [("checkout", "failed"), ("checkout", "done")]
    assert runs[1]["target"] == "orders.py"
    assert runs[1]["score"] == {"quantity": 2}
    assert "LookupError" in str(runs[0]["error"])
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "cadence_studio",
            "history",
            "show",
            str(runs[1]["id"]),
            "--cwd",
            str(project),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "price" in shown
    assert "tag" in shown


def test_no_history_records_nothing(project: Path) -> None:
    with webhook(project, "orders.py", "--no-history") as server:
        assert httpx.post(f"{server.base}/cadences/checkout").status_code == 200
    assert "not recorded" in "".join(server.banner)
    assert not (project / ".cadence" / "history.sqlite3").exists()


def test_metrics_count_the_webhook_runs(project: Path) -> None:
    with webhook(project, "orders.py", "--metrics-port", "0", "--no-history") as server:
        metrics_line = next(line for line in server.banner if line.startswith("metrics: "))
        metrics_url = metrics_line.split()[1]
        httpx.post(f"{server.base}/cadences/checkout")
        httpx.post(f"{server.base}/cadences/checkout", json={"fail": True})
        text = httpx.get(metrics_url).text
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    done = ("cadence_cadence_runs_total", frozenset({("cadence", "checkout"), ("status", "done")}))
    failed = ("cadence_cadence_runs_total", frozenset({("cadence", "checkout"), ("status", "failed")}))
    assert samples[done] == 1.0
    assert samples[failed] == 1.0


def test_a_token_guards_every_route(project: Path) -> None:
    with webhook(project, "orders.py", "--token", "s3cret") as server:
        none = httpx.post(f"{server.base}/cadences/checkout")
        wrong = httpx.post(f"{server.base}/cadences/checkout", headers={"Authorization": "Bearer nope"})
        listing = httpx.get(f"{server.base}/cadences")
        docs = httpx.get(f"{server.base}/docs")
        right = httpx.post(f"{server.base}/cadences/checkout", headers={"Authorization": "Bearer s3cret"})
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in none.json()["detail"]
    assert wrong.status_code == 401
    assert listing.status_code == 401
    assert docs.status_code == 401
    assert right.status_code == 200
    assert "every route needs 'Authorization: Bearer <token>'" in "".join(server.banner)
    assert "s3cret" not in "".join(server.banner)


def test_the_token_can_come_from_the_environment(project: Path) -> None:
    with webhook(project, "orders.py", env={"CADENCE_WEBHOOK_TOKEN": "from-env"}) as server:
        none = httpx.get(f"{server.base}/cadences")
        right = httpx.get(f"{server.base}/cadences", headers={"Authorization": "Bearer from-env"})
    assert none.status_code == 401
    assert right.status_code == 200


def test_without_a_token_it_listens_on_this_machine_only(project: Path) -> None:
    with webhook(project, "orders.py") as server:
        assert server.base.startswith("http://127.0.0.1:")
        assert "this machine only, no token" in "".join(server.banner)
        assert httpx.get(f"{server.base}/cadences").status_code == 200
    refused = subprocess.run(
        command("orders.py", "--host", "0.0.0.0", "--port", "0", "--cwd", str(project)),
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "CADENCE_WEBHOOK_TOKEN"},
    )
    assert refused.returncode == 2
    assert "--host 0.0.0.0 without a token" in refused.stderr
    assert "--token" in refused.stderr
    assert refused.stdout == ""  # nothing served, nothing imported


def test_any_host_with_a_token_is_served(project: Path) -> None:
    with webhook(project, "orders.py", "--host", "0.0.0.0", "--token", "t") as server:
        port = server.base.rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}/cadences"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer t"}).status_code == 200


def test_a_port_in_use_and_a_bad_target_are_refused(project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = subprocess.run(
            command("orders.py", "--port", str(port), "--cwd", str(project)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert taken.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in taken.stderr
    missing = subprocess.run(
        command("nope.py", "--cwd", str(project)), capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "no file 'nope.py'" in missing.stderr
