"""Headless chromium (the system package) driven over the DevTools protocol, for the served studio.

The page's terminal is drawn on a canvas, so what it shows is read where it arrives: every binary
websocket frame the page receives from textual-serve is terminal output, fed to a pyte screen of the
size the page asked for. Keys are typed as a user types them (``Input.dispatchKeyEvent``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pyte

__all__ = ["Browser", "chromium_binary", "open_browser"]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless chromium with one page, and a pyte screen of what the page's terminal shows."""

    def __init__(self, process: subprocess.Popen[bytes], ws: aiohttp.ClientWebSocketResponse) -> None:
        self.process = process
        self.ws = ws
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.frames = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._replies.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            self._on_event(data.get("method", ""), data.get("params", {}))

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.webSocketCreated":
            query = parse_qs(urlparse(params["url"]).query)
            width, height = int(query.get("width", ["80"])[0]), int(query.get("height", ["24"])[0])
            self.screen.resize(height, width)
        elif method == "Network.webSocketFrameSent":
            payload = params["response"]["payloadData"]
            with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
                kind, data = json.loads(payload)
                if kind == "resize":
                    self.screen.resize(int(data["height"]), int(data["width"]))
        elif method == "Network.webSocketFrameReceived":
            response = params["response"]
            if response["opcode"] == 2:  # binary: the app's terminal output
                self.stream.feed(base64.b64decode(response["payloadData"]))
                self.frames += 1

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[call_id] = future
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            msg = f"{method} failed: {reply['error']}"
            raise RuntimeError(msg)
        return reply.get("result", {})

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        """The screen's text once ``pattern`` (a regex) is on it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if re.search(pattern, text):
                return text
            await asyncio.sleep(0.1)
        msg = f"timed out waiting for {pattern!r} on the page's terminal; it shows:\n{self.text()}"
        raise AssertionError(msg)

    async def press(self, key: str) -> None:
        """Type one printable key, as a user does."""
        code = f"Key{key.upper()}" if key.isalpha() else ""
        common = {"key": key, "code": code, "windowsVirtualKeyCode": ord(key.upper())}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=key, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    async def screenshot(self, path: Path) -> None:
        result = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(result["data"]))


@contextlib.asynccontextmanager
async def open_browser(url: str, *, width: int = 1280, height: int = 800) -> AsyncIterator[Browser]:
    """Chromium headless on ``url``, its page's network watched; closed (killed if need be) at the end."""
    binary = chromium_binary()
    if binary is None:
        msg = "chromium is not installed (apt-get install chromium)"
        raise RuntimeError(msg)
    profile = tempfile.mkdtemp(prefix="cadence-chromium-")
    process = await asyncio.to_thread(_launch, binary, profile, width, height)
    session = aiohttp.ClientSession()
    browser: Browser | None = None
    try:
        port = await _devtools_port(Path(profile), process)
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t["type"] == "page")
        ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        browser = Browser(process, ws)
        await browser.send("Network.enable")
        await browser.send("Page.enable")
        await browser.send("Page.navigate", url=url)
        yield browser
    finally:
        if browser is not None:
            browser._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await browser._reader
            await browser.ws.close()
        await session.close()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def _launch(binary: str, profile: str, width: int, height: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


async def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    """The DevTools port chromium chose (it writes it to DevToolsActivePort in its profile)."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            msg = f"chromium exited with {process.returncode}: {err[-2000:]}"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)
    msg = "chromium did not open its DevTools port within 30 s"
    raise RuntimeError(msg)
