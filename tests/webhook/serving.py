"""A real `cadence-studio webhook` process (uvicorn) on a free port, for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: A module with a dataclass score, a note that fails on demand, and a factory.
ORDERS = textwrap.dedent(
    """
    from dataclasses import dataclass, field
    from cadence import Cadence, Score

    @dataclass
    class Order(Score):
        order_id: str = "o-1"
        quantity: int = 1
        unit_price: int = 250
        tags: list[str] = field(default_factory=list)
        fail: bool = False
        total: int = 0

    def price(order: Order) -> None:
        order.total = order.quantity * order.unit_price

    async def check(order: Order) -> None:
        if order.fail:
            raise LookupError(f"no such order {order.order_id}")

    def tag(order: Order) -> None:
        order.tags.append("priced")

    checkout = Cadence("checkout", Order()).then("price", price).then("check", check).then("tag", tag)

    def make_checkout(region: str, discount: int = 0) -> Cadence[Order]:
        def regional(order: Order) -> None:
            order.tags.append(region)
            order.total -= discount
        return Cadence("regional", Order()).then("price", price).then("regional", regional)
    """
)


@dataclass
class Server:
    """A running webhook: its base URL, the lines it printed before serving, the process."""

    base: str
    banner: list[str]
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cadence_studio", "webhook", *args]


@contextmanager
def webhook(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    program: list[str] | None = None,
) -> Iterator[Server]:
    """Start ``cadence-studio webhook ARGS`` (``program``: another ``cadence-studio``) in ``project`` on a
    free port; SIGTERM it at the end (it must exit 0)."""
    argv = [*program, "webhook", *args] if program else command(*args)
    base_env = {
        k: v for k, v in os.environ.items() if not (program and k.startswith(("PYTHON", "VIRTUAL_ENV")))
    }
    proc = subprocess.Popen(
        [*argv, "--port", "0", "--cwd", str(project)],
        cwd=project,
        env={**base_env, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    banner: list[str] = []
    found = threading.Event()
    base: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("webhook: http://") and not base:
                base.append(line.split()[1])
            if line.startswith(("runs are recorded", "runs are not recorded")):  # the banner's last line
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    found.wait(timeout)
    if not base or proc.poll() is not None:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)
        proc.stdout.close()
        raise AssertionError("the webhook did not start:\n" + "".join(banner))
    server = Server(base[0], list(banner), proc, banner)
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        reader.join(timeout=10)
        proc.stdout.close()
    assert code == 0, "".join(banner)
