"""``cadence-studio webhook TARGET``: serve a module's cadences over HTTP (FastAPI on uvicorn).

This process is the service: it imports TARGET here (the worker side's loader) and runs a cadence per
request (see :mod:`.webhook_app`). Who may call it:

- without a token it listens on this machine only (a loopback address: 127.0.0.1, ::1, localhost);
- any other ``--host`` (0.0.0.0, a LAN address) needs a token (``--token`` or ``CADENCE_WEBHOOK_TOKEN``),
  and then every route needs ``Authorization: Bearer TOKEN``; it refuses to start otherwise (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LoadError, StudioError, TargetError
from ..protocol.target import parse_target
from ..store.history import History

__all__ = ["access_rule", "is_loopback", "serve"]

TOKEN_ENV = "CADENCE_WEBHOOK_TOKEN"


def _fail(message: str, hint: str = "") -> int:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return 2


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) reaches only this machine."""
    bare = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


def access_rule(host: str, token: str | None) -> str | None:
    """Who may call a server on ``host`` with ``token``, in words; None when it must not start."""
    if token is not None:
        return f"on {host}: every route needs 'Authorization: Bearer <token>' (401 otherwise)"
    if is_loopback(host):
        return (
            f"on {host}, this machine only, no token; to listen beyond it give "
            f"--host HOST and a token (--token or {TOKEN_ENV})"
        )
    return None


def _bind(host: str, port: int) -> socket.socket | str:
    """A listening socket on (host, port), or why there is none."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as error:
        return f"cannot resolve --host {host!r} ({error.strerror or error})"
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is in use: pick another --port (0 picks a free one)"
        return f"cannot listen on {host}:{port} ({error.strerror or error})"
    sock.setblocking(False)
    return sock


def _stopped(sig: int, frame: object) -> None:
    """The signal uvicorn raises again once it has shut down: nothing more to do."""


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}"


def serve(
    target: str,
    *,
    host: str,
    port: int,
    token: str | None,
    cwd: Path,
    record: bool = True,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> int:
    """Serve TARGET's cadences until SIGINT/SIGTERM; the exit code (2: bad input, nothing served)."""
    if token is not None and not token.strip():
        return _fail("the token is empty", f"pass --token T (or set {TOKEN_ENV}) with a secret, or neither")
    rule = access_rule(host, token)
    if rule is None:
        return _fail(
            f"--host {host} without a token would let anyone who reaches {host} run your cadences",
            f"pass a token (--token T, or set {TOKEN_ENV}); clients send 'Authorization: Bearer T'. "
            "Without one the webhook listens on 127.0.0.1 only",
        )
    try:
        import uvicorn

        from .webhook_app import make_app, routes_for
    except ImportError as error:
        return _fail(
            f"the webhook needs FastAPI and uvicorn ({error})", "pip install 'cadence-studio[fastapi]'"
        )
    try:
        found, disabled = _load(target, cwd)
    except TargetError as error:
        return _fail(str(error))
    except LoadError as error:
        return _fail(str(error), error.hint)
    if not found:
        return _fail(
            f"{target!r} defines no cadence to serve" + (f"; {disabled}" if disabled else ""),
            "define one at module level (checkout = Cadence(...)) or a function -> Cadence",
        )
    sock = _bind(host, port)
    if isinstance(sock, str):
        return _fail(sock)
    metrics = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    if metrics_port is not None:
        from .metrics import MetricsServer

        try:
            metrics = MetricsServer(metrics_port, host=metrics_host)
        except StudioError as error:
            sock.close()
            return _fail(str(error))
        on_event = metrics.observe
    history = History(cwd) if record else None
    try:
        app = make_app(target, routes_for(found), token=token, history=history, on_event=on_event)
        base = _url(sock)
        print(f"webhook: {base} ({rule})", flush=True)
        for route in app.state.cadence_routes:
            print(f"  POST {base}{route.path}", flush=True)
        print(f"  GET  {base}/cadences lists them with their score schemas; docs: {base}/docs", flush=True)
        if disabled:
            print(disabled, flush=True)
        if metrics is not None:
            print(f"metrics: {metrics.url}", flush=True)
        if history is None:
            print("runs are not recorded (--no-history)", flush=True)
        else:
            print(f"runs are recorded in {history.path} (cadence-studio history)", flush=True)
        server = uvicorn.Server(uvicorn.Config(app, log_level="info", ws="none", lifespan="off"))
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the
        # handler it found: with these, a stop is a clean end (exit 0), not a KeyboardInterrupt.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stopped)
        server.run(sockets=[sock])
        print("webhook stopped", flush=True)
    finally:
        with contextlib.suppress(OSError):
            sock.close()
        if metrics is not None:
            metrics.close()
    return 0


def _load(target: str, cwd: Path) -> tuple[list[Any], str]:
    """The cadences and factories TARGET offers (the worker side's loader, in this process), and a note
    on the installed plugins the project disabled (``[tool.cadence] disabled``: not imported, no route).
    A broken plugin is warned about on stderr; the others are served."""
    from ..worker.plugins import load_target

    loaded = load_target(parse_target(target), cwd=cwd)
    for broken in loaded.broken:
        assert broken.error is not None
        where = f" ({broken.error.file}:{broken.error.line})" if broken.error.file else ""
        print(
            f"warning: plugin {broken.name!r} ({broken.package}): {broken.error.message}{where}",
            file=sys.stderr,
        )
    disabled = ", ".join(repr(q.name) for q in loaded.plugins or [] if q.disabled)
    note = f"disabled here, not served: {disabled} (cadence-studio enable NAME)" if disabled else ""
    return loaded.found, note
