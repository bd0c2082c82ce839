"""``cadence-studio serve``: the studio in a browser, through textual-serve.

Each browser session gets its own studio process (``python -m cadence_studio open TARGET``, with its own
worker), started without a shell and in its own process group. When the session ends (the tab closes,
the browser dies, the server stops) the process is asked to quit, and ended if it has not within a few
seconds; the app's driver (ui/served.py) also exits by itself once its input closes. The server binds
to localhost unless ``--host`` says otherwise: whoever reaches it can run the project's cadences.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import shlex
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from ..ui.served import DRIVER

__all__ = ["StudioServer", "is_local", "serve"]

log = logging.getLogger("cadence_studio.serve")

#: Seconds a session's app has to quit after its browser went away, before it is terminated (then killed).
QUIT_GRACE = 3.0


def is_local(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SessionApp(AppService):
    """One browser session's studio process: exec'd without a shell, in its own process group, and
    ended for sure when the session is over."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = argv

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        env["TEXTUAL_DRIVER"] = DRIVER
        return env

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the app to quit; terminate its process group if it has not quit in time, then kill it."""
        process = self._process
        with contextlib.suppress(ConnectionError, RuntimeError):
            await asyncio.wait_for(super().stop(), QUIT_GRACE)
        if process is None or process.returncode is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), QUIT_GRACE)
                return
            except TimeoutError:
                continue


class StudioServer(Server):
    """textual-serve's server, running one :class:`SessionApp` per browser session."""

    def __init__(self, argv: list[str], *, target: str, host: str, port: int) -> None:
        super().__init__(shlex.join(argv), host=host, port=port, title=f"Cadence Studio · {target}")
        self.argv = argv
        self.target = target
        self.sessions: set[SessionApp] = set()

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: the server says where it listens once it does (:meth:`_listening`)."""

    def _listening(self, *_: object) -> None:
        where = f"http://{self.host}:{self.port}"
        print(f"Serving Cadence Studio on {self.target} at {where}", flush=True)
        if is_local(self.host):
            print(
                "Only this machine can connect; --host 0.0.0.0 would let others in (they could run "
                "this project's cadences).",
                flush=True,
            )
        else:
            print(
                f"Listening on {self.host}: anyone who can reach it can run this project's cadences.",
                flush=True,
            )
        print("Each browser tab gets its own studio; Ctrl+C stops the server.", flush=True)

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl+C or SIGTERM; the lines saying where are printed once the socket listens."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.add_signal_handler(signal.SIGINT, self.request_exit)
        loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=self._listening,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(session.stop() for session in list(self.sessions)), return_exceptions=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session: its own studio process, ended when the websocket closes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        session: SessionApp | None = None
        try:
            await websocket.prepare(request)
            session = SessionApp(
                self.argv,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=False,
            )
            self.sessions.add(session)
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("the browser session ended with an error")
        finally:
            if session is not None:
                await session.stop()
                self.sessions.discard(session)
        return websocket


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def port_free(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served (None when it can)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"no address {host!r}: {error}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return f"{host}:{port} is not free ({error.strerror}); pick another with --port"
    return None


def serve(target: str, *, cwd: Path, host: str, port: int) -> None:
    """Serve the studio on ``target`` at ``host:port`` until Ctrl+C (or SIGTERM)."""
    argv = [sys.executable, "-m", "cadence_studio", "open", target, "--cwd", str(cwd.resolve())]
    StudioServer(argv, target=target, host=host, port=port).serve()
