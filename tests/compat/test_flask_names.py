"""The Flask names of cadence-orchestration (``cadence_route``, ``with_cadence``, ``register_cadence``,
``CadenceExtension``, ``CadenceBlueprint.blueprint``) on Werkzeug's threaded server, driven by httpx."""

from __future__ import annotations

from collections.abc import Iterator

import flask
import httpx
import pytest
from flask import Flask, abort

from cadence import Cadence, SQLiteCheckpointStore
from cadence.integrations.flask import (
    CadenceBlueprint,
    CadenceExtension,
    cadence_route,
    register_cadence,
    with_cadence,
)
from tests.compat.tally import Observed, TallyScore, count, leak
from tests.integrations.servers import serve_werkzeug

tally = Cadence("tally", TallyScore(seen=["base"])).with_hooks(Observed()).then("count", count)
leaky = Cadence("leaky", TallyScore()).then("leak", leak)


EXT = CadenceExtension()


def build_app(store: SQLiteCheckpointStore) -> Flask:
    app = Flask(__name__)
    app.config["CADENCE_EXPOSE_ERRORS"] = True  # read by every route that does not say otherwise
    app.config["CADENCE_TIMING_HEADER"] = "X-Run-Seconds"
    app.config["CADENCE_CHECKPOINT"] = store
    EXT.init_app(app)

    @cadence_route(app, "/tally/<name>", tally)
    def tally_view(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.post("/leak/<name>")
    @with_cadence(leaky)
    def leak_config(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.post("/leak-hidden/<name>")
    @with_cadence(leaky, expose_errors=False)
    def leak_hidden(name: str) -> TallyScore:
        return TallyScore(name=name)

    @app.post("/abort")
    @with_cadence(tally)
    def aborts() -> TallyScore:
        abort(404)

    @app.get("/plain")
    def plain() -> str:
        return "no cadence here"

    register_cadence(app, "/copy", tally)
    bp = CadenceBlueprint("compat", __name__, url_prefix="/bp")
    cadence_route(bp, "/tally/<name>", tally)(tally_view)
    assert isinstance(bp.blueprint, flask.Blueprint)
    app.register_blueprint(bp.blueprint)
    return app


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteCheckpointStore]:
    store = SQLiteCheckpointStore(tmp_path_factory.mktemp("compat") / "runs.sqlite3")
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(store: SQLiteCheckpointStore) -> Iterator[httpx.Client]:
    with serve_werkzeug(build_app(store)) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def test_extension_config_and_headers(client: httpx.Client, store: SQLiteCheckpointStore) -> None:
    """The run id header is the id the notes saw, under the configured timing header name; the run
    was checkpointed into the store named by CADENCE_CHECKPOINT under that id."""
    response = client.post("/tally/ada")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["count"]) == ("ada", 1)
    assert response.headers["x-cadence-run-id"] == body["run_id"]
    assert float(response.headers["x-run-seconds"]) >= 0
    assert "x-cadence-duration" not in response.headers
    assert response.headers["server-timing"].startswith("cadence;dur=")
    assert store.load(body["run_id"]) is not None
    assert "x-cadence-run-id" not in client.get("/plain").headers


def test_config_expose_errors_and_a_route_that_says_otherwise(client: httpx.Client) -> None:
    """CADENCE_EXPOSE_ERRORS=True shows the exception text; ``expose_errors=False`` on a route hides it."""
    shown = client.post("/leak/bob")
    assert shown.status_code == 500
    assert shown.json()["error"]["code"] == "NOTE_ERROR"
    assert "hunter2" in shown.json()["error"]["message"]
    hidden = client.post("/leak-hidden/bob")
    assert hidden.json() == {"error": {"code": "NOTE_ERROR", "message": "note 'leak' failed", "note": "leak"}}


def test_teardown_drops_every_record_even_after_errors(client: httpx.Client) -> None:
    """Successful, failed, aborted and cadence-less requests: each record is dropped at teardown."""
    before = EXT.requests_torn_down
    assert client.post("/tally/x").status_code == 200
    assert client.post("/leak/x").status_code == 500
    assert client.post("/abort").status_code == 404
    assert client.get("/plain").status_code == 200
    assert EXT.requests_torn_down - before == 4
    assert EXT.requests_open == 0


def test_register_cadence_without_a_view_runs_a_fresh_copy(client: httpx.Client) -> None:
    first, second = client.post("/copy").json(), client.post("/copy").json()
    assert first["count"] == second["count"] == 1
    assert first["seen"] == second["seen"] == ["base", "construction"]
    assert tally.get_score() == TallyScore(seen=["base"])


def test_blueprint_property_is_a_flask_blueprint_with_its_routes(client: httpx.Client) -> None:
    response = client.post("/bp/tally/cy")
    assert response.status_code == 200
    assert response.json()["seen"] == ["cy"]
