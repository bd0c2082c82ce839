"""`cadence-studio serve`: the studio in a real headless chromium, one studio process per browser session."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import open_browser

REPO = Path(__file__).resolve().parents[2]
STUDIO = Path(sys.executable).with_name("cadence-studio")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _wait_sessions(server: subprocess.Popen[str], count: int, timeout: float = 30.0) -> list[int]:
    """The server's studio processes once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        apps = _children(server.pid)
        if len(apps) == count:
            return apps
        time.sleep(0.1)
    msg = f"expected {count} studio processes under the server, found {_children(server.pid)}"
    raise AssertionError(msg)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _start(project: Path, *args: str) -> tuple[subprocess.Popen[str], int, list[str]]:
    port = _free_port()
    server = subprocess.Popen(
        [str(STUDIO), "serve", "examples/shop.py", "--port", str(port), *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    lines = [server.stdout.readline() for _ in range(3)]
    assert lines[0].startswith("Serving Cadence Studio on examples/shop.py"), lines
    return server, port, lines


def _stop(server: subprocess.Popen[str]) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=20)
    if server.stdout is not None:
        server.stdout.close()
    return code


@pytest.fixture
def served(project: Path) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    server, port, lines = _start(project)
    try:
        yield server, port, lines
    finally:
        _stop(server)


def test_the_page_draws_the_graph_and_a_key_steps_the_run(
    served: tuple[subprocess.Popen[str], int, list[str]], tmp_path: Path
) -> None:
    _, port, _ = served

    async def scenario() -> str:
        async with open_browser(f"http://127.0.0.1:{port}/") as page:
            drawn = await page.wait_for(r"load_cart")
            assert "fetch_customer" in drawn  # the graph, in the browser
            assert "requires_step_up" in drawn
            assert "paused" not in drawn
            await page.click(300, 300)  # the terminal takes the keys once clicked, as for a user
            await page.press("n")
            await page.wait_for(r"paused before checkout/load_cart")
            await page.press("n")
            stepped = await page.wait_for(r"paused before checkout/enrich")
            shot = Path(os.environ.get("CADENCE_SHOTS", tmp_path)) / "served_160.png"
            await page.screenshot(shot)
            assert shot.stat().st_size > 10_000
            return stepped

    stepped = asyncio.run(scenario())
    assert "load_cart" in stepped


def test_a_closed_or_reloaded_tab_ends_its_studio_and_its_worker(
    served: tuple[subprocess.Popen[str], int, list[str]],
) -> None:
    server, port, _ = served
    assert _children(server.pid) == []  # nothing runs before a browser connects

    async def scenario() -> None:
        async with open_browser(f"http://127.0.0.1:{port}/") as page:
            await page.wait_for(r"load_cart")
            [first] = _wait_sessions(server, 1)
            family = [first, *_descendants(first)]
            assert len(family) >= 2, "the studio and its worker process"
            await page.send("Page.reload")  # the old session ends, a new one starts
            await page.wait_for(r"load_cart")
            assert _wait_gone(family) == [], "the reloaded tab's studio (or its worker) is still running"
            [second] = _wait_sessions(server, 1)
            assert second != first
            family = [second, *_descendants(second)]
            targets = await page.send("Target.getTargets")
            [tab] = [t for t in targets["targetInfos"] if t["type"] == "page"]
            await page.send("Target.closeTarget", targetId=tab["targetId"])
            assert _wait_gone(family) == [], "a closed tab left its studio running"

    asyncio.run(scenario())
    assert server.poll() is None  # the server goes on serving


def test_a_killed_browser_ends_its_studio(served: tuple[subprocess.Popen[str], int, list[str]]) -> None:
    server, port, _ = served

    async def scenario() -> list[int]:
        async with open_browser(f"http://127.0.0.1:{port}/") as page:
            await page.wait_for(r"load_cart")
            [app] = _wait_sessions(server, 1)
            family = [app, *_descendants(app)]
            os.killpg(page.process.pid, signal.SIGKILL)  # no goodbye from the browser
            return family

    family = asyncio.run(scenario())
    assert _wait_gone(family) == [], "a killed browser left its studio running"
    assert server.poll() is None


def test_stopping_the_server_ends_every_session(project: Path) -> None:
    server, port, _ = _start(project)

    async def scenario() -> None:
        async with open_browser(f"http://127.0.0.1:{port}/") as page:
            await page.wait_for(r"load_cart")
            [app] = _wait_sessions(server, 1)
            family = [app, *_descendants(app)]
            assert _stop(server) == 0
            assert _wait_gone(family) == [], "the server stopped but a studio went on"

    asyncio.run(scenario())


def _listening_on(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp, IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hexport = local.split(":")
        if state == "0A" and int(hexport, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_it_binds_to_localhost_unless_told_and_says_so(
    served: tuple[subprocess.Popen[str], int, list[str]], project: Path
) -> None:
    _, port, lines = served
    assert "Only this machine can connect" in lines[1]
    assert _listening_on(port) == {"127.0.0.1"}
    shared, shared_port, shared_lines = _start(project, "--host", "0.0.0.0")
    try:
        assert "anyone who can reach it can run this project's cadences" in shared_lines[1]
        assert _listening_on(shared_port) == {"0.0.0.0"}
    finally:
        _stop(shared)


def test_a_busy_port_is_refused_with_exit_2(served: tuple[subprocess.Popen[str], int, list[str]]) -> None:
    _, port, _ = served
    busy = subprocess.run(
        [str(STUDIO), "serve", "examples/shop.py", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert busy.returncode == 2
    assert f"127.0.0.1:{port} is not free" in busy.stderr
    assert "--port" in busy.stderr


def test_a_killed_server_leaves_no_studio_behind(project: Path) -> None:
    """With the server gone (SIGKILL: no goodbye), each studio sees its input end and exits."""
    server, port, _ = _start(project)

    async def scenario() -> list[int]:
        async with open_browser(f"http://127.0.0.1:{port}/") as page:
            await page.wait_for(r"load_cart")
            [app] = _wait_sessions(server, 1)
            family = [app, *_descendants(app)]
            server.kill()
            _stop(server)
            return family

    family = asyncio.run(scenario())
    left = _wait_gone(family)
    for pid in left:  # don't leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert left == [], "the server was killed and its studio processes went on"
