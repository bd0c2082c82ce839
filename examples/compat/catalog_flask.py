"""A catalog service written in cadence-orchestration's documented style, served with Flask.

Serve it with ``flask --app examples.compat.catalog_flask run``; ``cadence-studio list`` and
``cadence-studio run examples/compat/catalog_flask.py:catalog_cadence`` show and run the cadence
without a server. It uses the function-style hooks (``before_note``, ``after_note``, ``on_error``),
the console reporters of ``cadence.reporters.console``, an ``AtomicDict[T]`` shared by parallel notes,
and the Flask helpers ``CadenceBlueprint``, ``cadence_route``, ``with_cadence``, ``register_cadence``
and ``CadenceExtension``.
"""

# No `from __future__ import annotations` here, as in the documentation's examples: the score's
# annotations (AtomicDict[int] among them) are evaluated when the class is made.
import logging
import sys
from dataclasses import dataclass

from flask import Flask

from cadence import AtomicDict, AtomicList, Cadence, Score, note
from cadence.hooks import after_note, before_note, on_error
from cadence.integrations.flask import (
    CadenceBlueprint,
    CadenceExtension,
    cadence_route,
    register_cadence,
    with_cadence,
)
from cadence.reporters.console import ConsoleReporter, json_reporter

logger = logging.getLogger(__name__)

SHELVES = {
    "books": {"dune": 12, "emma": 3},
    "lamps": {"arc": 1},
    "pens": {"fine": 40, "broad": 0},
}


@dataclass
class CatalogScore(Score):
    shelves: list = None
    counts: AtomicDict[int] = None
    empty: AtomicList = None
    total: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.shelves is None:
            self.shelves = sorted(SHELVES)
        self.counts = AtomicDict[int]()
        self.empty = AtomicList()


@note
def count_books(score: CatalogScore):
    score.counts.set("books", sum(SHELVES["books"].values()))


@note
def count_lamps(score: CatalogScore):
    score.counts.set("lamps", sum(SHELVES["lamps"].values()))


@note
async def count_pens(score: CatalogScore):
    pens = SHELVES["pens"]
    score.counts.set("pens", sum(pens.values()))
    score.empty.extend(name for name, n in pens.items() if n == 0)


@note
def add_up(score: CatalogScore):
    score.total = sum(score.counts.get_all().values())


def started(note_name, score):
    logger.debug("starting %s", note_name)


async def finished(note_name, score, duration, error):
    logger.debug("finished %s in %.4fs (error: %s)", note_name, duration, error)


def failed(note_name, score, error):
    logger.warning("%s failed: %s", note_name, error)


catalog_cadence = (
    Cadence("catalog", CatalogScore())
    .with_hooks(before_note(started))
    .with_hooks([after_note(finished), on_error(failed)])
    .with_reporter(ConsoleReporter(file=sys.stderr).report)
    .sync("count", [count_books, count_lamps, count_pens])
    .then("add_up", add_up)
)

#: The same cadence reporting JSON lines, for log collectors.
catalog_json_cadence = (
    Cadence("catalog_json", CatalogScore())
    .with_reporter(json_reporter)
    .sync("count", [count_books, count_lamps, count_pens])
    .then("add_up", add_up)
)


# ---------------------------------------------------------------------------- the service

app = Flask(__name__)
app.config["CADENCE_EXPOSE_ERRORS"] = False
cadence_ext = CadenceExtension(app)

bp = CadenceBlueprint("catalog", __name__, url_prefix="/catalog")


@bp.cadence_route("/count/<shelf>", catalog_cadence)
def count_one(shelf):
    return CatalogScore(shelves=[shelf])


app.register_blueprint(bp.blueprint)


@cadence_route(app, "/count", catalog_cadence)
def count_all():
    return CatalogScore()


@app.get("/count-json")
@with_cadence(catalog_json_cadence)
def count_json():
    return CatalogScore()


register_cadence(app, "/demo", catalog_cadence)
