"""Real servers on a free localhost port, in a thread, for the integration tests: uvicorn (ASGI) and
Werkzeug's threaded development server (WSGI)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from werkzeug.serving import WSGIRequestHandler, make_server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_uvicorn(app: Any, name: str = "uvicorn-test") -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL once uvicorn has started."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive()


class QuietHandler(WSGIRequestHandler):
    """The development server's handler without a log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_werkzeug(app: Any, name: str = "werkzeug-test") -> Iterator[str]:
    """Serve the WSGI ``app`` with Werkzeug's threaded server until the block ends; yields its base URL."""
    dev = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=dev.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{dev.server_port}"
    finally:
        dev.shutdown()
        dev.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()
