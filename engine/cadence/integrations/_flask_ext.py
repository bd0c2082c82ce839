"""``CadenceExtension`` of ``cadence.integrations.flask``: the Flask extension pattern."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app, g
from werkzeug.wrappers import Response

from ._common import RequestRuns
from ._flask_run import RUNS_KEY

#: The config keys the extension reads, with their defaults (``app.config.setdefault``).
CONFIG_DEFAULTS: dict[str, Any] = {
    "CADENCE_EXPOSE_ERRORS": False,
    "CADENCE_CHECKPOINT": None,
    "CADENCE_RUN_ID_HEADER": "X-Cadence-Run-Id",
    "CADENCE_TIMING_HEADER": "X-Cadence-Duration",
}


class CadenceExtension:
    """Cadence for a Flask app, the way Flask extensions are set up::

        cadence = CadenceExtension(app)          # or: cadence = CadenceExtension(); cadence.init_app(app)

    Config keys (read per request, defaults set by :meth:`init_app`):

    - ``CADENCE_EXPOSE_ERRORS`` (``False``): put the error's own text in error bodies, for every
      cadence route of the app that does not say otherwise;
    - ``CADENCE_CHECKPOINT`` (``None``): a ``CheckpointStore`` each request's run is checkpointed into,
      for the routes that give none;
    - ``CADENCE_RUN_ID_HEADER`` (``"X-Cadence-Run-Id"``) and ``CADENCE_TIMING_HEADER``
      (``"X-Cadence-Duration"``, with ``Server-Timing: cadence;dur=<ms>``): response headers of a
      request that ran a cadence (its run id, the seconds spent running); ``None`` turns one off.

    Each request gets a record of its runs in ``flask.g`` (its run id: ``req-<hex>``, which hooks
    read with ``cadence.hooks.current_run_id()``); the app's ``teardown_appcontext`` drops it, whether
    the request succeeded or not. ``app.extensions["cadence"]`` is the extension.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._torn_down = 0
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set the config defaults and register the request hooks on ``app``."""
        for key, value in CONFIG_DEFAULTS.items():
            app.config.setdefault(key, value)
        app.extensions["cadence"] = self
        app.before_request(self._before_request)
        app.after_request(self._after_request)
        app.teardown_appcontext(self.teardown)

    @property
    def requests_open(self) -> int:
        """Requests that got a record and whose app context is not torn down yet."""
        return self._open

    @property
    def requests_torn_down(self) -> int:
        """Requests whose record :meth:`teardown` dropped, since the extension was made."""
        return self._torn_down

    def _before_request(self) -> None:
        setattr(g, RUNS_KEY, RequestRuns())
        with self._lock:
            self._open += 1

    def _after_request(self, response: Response) -> Response:
        runs: RequestRuns | None = g.get(RUNS_KEY)
        if runs is not None:
            config = current_app.config
            headers = runs.headers(config.get("CADENCE_RUN_ID_HEADER"), config.get("CADENCE_TIMING_HEADER"))
            response.headers.update(headers)
        return response

    def teardown(self, exc: BaseException | None = None) -> None:
        """Drop the request's record (``teardown_appcontext``; also after a failed request)."""
        if g.pop(RUNS_KEY, None) is not None:
            with self._lock:
                self._open -= 1
                self._torn_down += 1
