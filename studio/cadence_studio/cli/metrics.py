"""Prometheus metrics for headless runs: ``cadence-studio run TARGET --metrics-port N``.

The worker's event stream (the one stream the studio reads) feeds a
:class:`cadence.reporters.PrometheusReporter` in this process, and prometheus_client's own HTTP
server publishes it at ``http://HOST:PORT/metrics``. User code stays in the worker.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

from ..errors import StudioError

__all__ = ["MetricsServer"]


class MetricsServer:
    """A private registry, a reporter filling it from event dicts, and the HTTP server publishing it."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", prefix: str = "cadence") -> None:
        try:
            from prometheus_client import CollectorRegistry, start_http_server
        except ImportError:
            msg = "--metrics-port needs prometheus_client: pip install 'cadence-studio[prometheus]'"
            raise StudioError(msg) from None
        from cadence.reporters import PrometheusReporter

        self.registry = CollectorRegistry()
        self.reporter = PrometheusReporter(prefix=prefix, registry=self.registry)
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                msg = f"port {port} on {host} is in use: pick another --metrics-port (0 picks a free one)"
            else:
                msg = f"cannot serve metrics on {host}:{port}: {error.strerror or error}"
            raise StudioError(msg) from None
        bound_host, bound_port = self._server.server_address[:2]
        self.port = int(bound_port)
        name = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        shown = f"[{name}]" if ":" in name else name
        self.url = f"http://{shown}:{self.port}/metrics"

    def observe(self, event: Mapping[str, Any]) -> None:
        """Count one event of the worker's stream (its JSON form)."""
        self.reporter.on_event_data(event)

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
