"""HTTP benchmark: requests per second through a cadence endpoint vs the same endpoint in plain async code.

Run with ``make bench`` (or ``.venv/bin/python bench/http.py``). This is not a test: it prints one
table and exits 0, unless ``--strict`` is given (then it exits 1 when any figure misses its target).

The endpoint, served twice: ``POST /quote/{customer_id}`` with a JSON body (a pydantic model: cart
lines, a country, maybe a coupon) answers a price quote. The cadence side is a ``CadenceRouter`` route
on ``quote`` below (a ``.sync`` of three async lookups, a ``.split`` on the coupon, a ``.then`` and a
``.child`` that signs a receipt); the plain side is an ordinary FastAPI route that awaits the very same
note functions by hand (``asyncio.gather`` for the three lookups, an ``if``, a receipt score built and
merged by hand). Every note does a little arithmetic (or a hash) and ``await asyncio.sleep(0)``. Both
routes answer the same JSON; that is checked on several inputs before anything is timed.

1. server: each app runs in its own uvicorn process on 127.0.0.1 (one worker, no access log, log level
   warning), both up at once, and ``wrk`` (another process, written in C) loads one, then the other,
   alternating which goes first, for several rounds; the medians of requests/s are compared, and wrk's
   p50/p99 latencies shown. Without ``wrk`` a multi-process httpx client stands in and says so; it
   saturates before the server does, so that row has no target.
2. in-process, httpx: the same two apps driven through ``httpx.ASGITransport`` in one event loop (no
   socket, no server), requests one after another in interleaved batches. httpx's own work per request
   is on both sides of this ratio (here it costs more than the app), which dilutes the difference.
3. in-process, bare: the stricter view. The apps are called as ASGI applications directly (a scope, the
   body in one message, the response collected), so only FastAPI, the route and the cadence (or the
   hand-written code) are compared.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``http`` package, and running it puts its folder first
# on sys.path, where it would shadow that package for uvicorn, httpx and starlette. Take it off first.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import gc
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from cadence import Cadence, Score
from cadence.integrations.fastapi import CadenceRouter

TARGET = 0.8  # cadence requests/s ≥ 0.8 × plain requests/s
HERE = Path(__file__).resolve()

# ---------------------------------------------------------------------------- the endpoint's work

TAX_BASIS_POINTS = {"FR": 2000, "DE": 1900, "GB": 2000, "US": 0}
COUPON_PERCENT = {"WELCOME10": 10, "SPRING15": 15}
TIERS = ("bronze", "silver", "gold")
TIER_PERCENT = {"bronze": 0, "silver": 2, "gold": 5}


class Line(BaseModel):
    sku: str
    qty: int = Field(ge=1)
    unit_cents: int = Field(ge=0)


class QuoteRequest(BaseModel):
    country: str
    lines: list[Line]
    coupon: str | None = None


@dataclass
class Quote(Score):
    customer_id: str = ""
    country: str = ""
    coupon: str | None = None
    lines: list[tuple[str, int, int]] = field(default_factory=list)
    subtotal: int = 0
    tax_basis_points: int = 0
    tier: str = ""
    discount: int = 0
    tax: int = 0
    total: int = 0
    receipt: str = ""


@dataclass
class Receipt(Score):
    customer_id: str = ""
    total: int = 0
    signature: str = ""


async def price_lines(score: Quote) -> None:
    await asyncio.sleep(0)
    score.subtotal = sum(qty * unit for _, qty, unit in score.lines)


async def tax_rate(score: Quote) -> None:
    await asyncio.sleep(0)
    score.tax_basis_points = TAX_BASIS_POINTS.get(score.country, 1000)


async def loyalty(score: Quote) -> None:
    await asyncio.sleep(0)
    score.tier = TIERS[zlib.crc32(score.customer_id.encode()) % len(TIERS)]


def has_coupon(score: Quote) -> bool:
    return score.coupon is not None


async def coupon_discount(score: Quote) -> None:
    await asyncio.sleep(0)
    percent = COUPON_PERCENT.get(score.coupon or "", 0) + TIER_PERCENT[score.tier]
    score.discount = score.subtotal * percent // 100


async def loyalty_discount(score: Quote) -> None:
    await asyncio.sleep(0)
    score.discount = score.subtotal * TIER_PERCENT[score.tier] // 100


async def totals(score: Quote) -> None:
    await asyncio.sleep(0)
    net = score.subtotal - score.discount
    score.tax = net * score.tax_basis_points // 10_000
    score.total = net + score.tax


async def sign(score: Receipt) -> None:
    await asyncio.sleep(0)
    score.signature = hashlib.sha256(f"{score.customer_id}:{score.total}".encode()).hexdigest()[:16]


def receipt_for(score: Quote) -> Receipt:
    return Receipt(customer_id=score.customer_id, total=score.total)


def merge_receipt(parent: Quote, child: Receipt) -> None:
    parent.receipt = child.signature


def new_quote(customer_id: str, body: QuoteRequest) -> Quote:
    lines = [(line.sku, line.qty, line.unit_cents) for line in body.lines]
    return Quote(customer_id=customer_id, country=body.country, coupon=body.coupon, lines=lines)


def summary(score: Quote) -> dict[str, Any]:
    """The response body, on both sides."""
    return {
        "customer_id": score.customer_id,
        "tier": score.tier,
        "subtotal_cents": score.subtotal,
        "discount_cents": score.discount,
        "tax_cents": score.tax,
        "total_cents": score.total,
        "receipt": score.receipt,
    }


# ---------------------------------------------------------------------------- the two apps

receipt = Cadence("receipt", Receipt()).then("sign", sign)
quote = (
    Cadence("quote", Quote())
    .sync("lookups", [price_lines, tax_rate, loyalty])
    .split("coupon?", has_coupon, coupon_discount, loyalty_discount)
    .then("totals", totals)
    .child("receipt", receipt, merge_receipt, score=receipt_for)
)

router = CadenceRouter()


@router.cadence("/quote/{customer_id}", quote, response_mapper=summary)
async def cadence_quote(customer_id: str, body: QuoteRequest) -> Quote:
    return new_quote(customer_id, body)


cadence_app = FastAPI()
cadence_app.include_router(router)

# Built the same way as the cadence app (a router included in the app: FastAPI matches included routes
# through one more layer), so that only the endpoints differ.
plain_router = APIRouter()


# ``response_model=None``: the cadence route's answer is not validated against a model either.
@plain_router.post("/quote/{customer_id}", response_model=None)
async def plain_quote(customer_id: str, body: QuoteRequest) -> dict[str, Any]:
    score = new_quote(customer_id, body)
    await asyncio.gather(price_lines(score), tax_rate(score), loyalty(score))
    if has_coupon(score):
        await coupon_discount(score)
    else:
        await loyalty_discount(score)
    await totals(score)
    child = receipt_for(score)
    await sign(child)
    merge_receipt(score, child)
    return summary(score)


plain_app = FastAPI()
plain_app.include_router(plain_router)

APPS = {"cadence": cadence_app, "plain": plain_app}


def sample_requests() -> list[tuple[str, dict[str, Any]]]:
    """``(path, body)`` pairs the load cycles through: both branches of the split, several countries."""
    out = []
    carts = [
        ("FR", None),
        ("DE", "WELCOME10"),
        ("US", None),
        ("GB", "SPRING15"),
        ("IT", "WELCOME10"),
        ("FR", "X"),
    ]
    for i, (country, coupon) in enumerate(carts):
        lines = [
            {"sku": f"sku-{i}-{j}", "qty": 1 + (i + j) % 3, "unit_cents": 499 + 250 * j + 37 * i}
            for j in range(2 + i % 3)
        ]
        body: dict[str, Any] = {"country": country, "lines": lines}
        if coupon is not None:
            body["coupon"] = coupon
        out.append((f"/quote/c-{1000 + 7 * i}", body))
    return out


# ---------------------------------------------------------------------------- child processes


def serve(which: str, port: int) -> None:
    """A uvicorn server for one app (run in its own process by ``--serve``)."""
    import uvicorn

    uvicorn.run(
        APPS[which],
        host="127.0.0.1",
        port=port,
        workers=1,
        log_level="warning",
        access_log=False,
        http="auto",  # httptools when it is installed, else h11
        loop="auto",  # uvloop when it is installed, else asyncio
        ws="none",
    )


def http_impl() -> str:
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {http}, {loop} loop"


async def _load(base: str, connections: int, start_at: float, duration: float) -> dict[str, Any]:
    requests = sample_requests()
    latencies: list[float] = []
    errors = 0
    # A few connections per client: httpcore looks through its whole pool on every request.
    per_client = 4
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
        for _ in range(-(-connections // per_client))
    ]
    try:
        # Open every connection before the clock starts.
        path, body = requests[0]
        await asyncio.gather(*(clients[k // per_client].post(path, json=body) for k in range(connections)))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        end = time.perf_counter() + duration

        async def worker(k: int) -> None:
            nonlocal errors
            client = clients[k // per_client]
            i = k
            while True:
                path, body = requests[i % len(requests)]
                i += 1
                t0 = time.perf_counter()
                if t0 >= end:
                    return
                response = await client.post(path, json=body)
                t1 = time.perf_counter()
                if t1 > end:
                    return
                if response.status_code != 200:
                    errors += 1
                latencies.append(t1 - t0)

        await asyncio.gather(*(worker(k) for k in range(connections)))
    finally:
        for client in clients:
            await client.aclose()
    return {"requests": len(latencies), "errors": errors, "latencies": latencies}


def load(base: str, connections: int, start_at: float, duration: float) -> None:
    """One process of the Python load generator (``--load``); prints its result as JSON."""
    print(json.dumps(asyncio.run(_load(base, connections, start_at, duration))))


# ---------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(which: str) -> Iterator[str]:
    """Start ``which`` app under uvicorn in a subprocess; yield its base URL; stop it."""
    port = _free_port()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, str(HERE), "--serve", which, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                if proc.poll() is not None:
                    errors.seek(0)
                    msg = f"the {which} server stopped before it started:\n{errors.read()}"
                    raise SystemExit(msg)
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        msg = f"the {which} server did not start within 20 s"
                        raise SystemExit(msg) from None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class BareASGI:
    """Calls an ASGI app directly, as a server would once it has parsed a request: no client, no socket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        incoming = [{"type": "http.request", "body": body, "more_body": False}]
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop() if incoming else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


Ask = Callable[[str, int], Awaitable[tuple[int, bytes]]]  # (side, i) → status and body of request i


def in_process_askers(driver: str) -> tuple[Ask, Callable[[], Awaitable[None]]]:
    """``ask(side, i)`` sending sample request ``i`` to ``side``'s app in this process, and a closer."""
    requests = sample_requests()
    if driver == "bare":
        bare = {which: BareASGI(app) for which, app in APPS.items()}
        encoded = [(path, json.dumps(body).encode()) for path, body in requests]

        async def ask_bare(which: str, i: int) -> tuple[int, bytes]:
            path, body = encoded[i % len(encoded)]
            return await bare[which].post(path, body)

        async def nothing() -> None:
            pass

        return ask_bare, nothing
    clients = {
        which: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        for which, app in APPS.items()
    }

    async def ask_httpx(which: str, i: int) -> tuple[int, bytes]:
        path, body = requests[i % len(requests)]
        response = await clients[which].post(path, json=body)
        return response.status_code, response.content

    async def close() -> None:
        for c in clients.values():
            await c.aclose()

    return ask_httpx, close


def same_answers(how: str, answers: dict[str, list[tuple[int, bytes]]]) -> None:
    """Stop the benchmark unless both sides answered every sample request 200 with the same JSON."""
    requests = sample_requests()
    bodies: list[dict[str, Any]] = []
    for i, (path, _) in enumerate(requests):
        got = {which: answers[which][i] for which in APPS}
        for which, (status, content) in got.items():
            if status != 200:
                msg = f"{how}: {which} POST {path}: status {status}: {content.decode(errors='replace')}"
                raise SystemExit(msg)
        parsed = {which: json.loads(content) for which, (_, content) in got.items()}
        if parsed["cadence"] != parsed["plain"]:
            msg = f"{how}: POST {path}: the two endpoints answer differently:\n{json.dumps(parsed, indent=2)}"
            raise SystemExit(msg)
        bodies.append(parsed["cadence"])
    if len({b["discount_cents"] > 0 for b in bodies}) < 2 or len({b["tier"] for b in bodies}) < 2:
        msg = f"the sample requests do not exercise both branches and several tiers: {bodies}"
        raise SystemExit(msg)


def check_servers(bases: dict[str, str]) -> None:
    answers: dict[str, list[tuple[int, bytes]]] = {}
    for which, base in bases.items():
        with httpx.Client(base_url=base, timeout=30) as client:
            answers[which] = []
            for path, body in sample_requests():
                response = client.post(path, json=body)
                answers[which].append((response.status_code, response.content))
    same_answers("uvicorn", answers)


# ---------------------------------------------------------------------------- load generators


WRK_SCRIPT = """
local samples = {%(samples)s}
local prepared = {}
local n = 0

init = function(args)
  for i, s in ipairs(samples) do
    prepared[i] = wrk.format("POST", s[1], {["Content-Type"] = "application/json"}, s[2])
  end
end

request = function()
  n = n %% #prepared + 1
  return prepared[n]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("CADENCE_BENCH %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Run:
    rps: float
    p50_ms: float | None = None
    p99_ms: float | None = None


def wrk_script(directory: str) -> str:
    samples = ", ".join(
        f"{{[==[{path}]==], [==[{json.dumps(body, separators=(',', ':'))}]==]}}"
        for path, body in sample_requests()
    )
    path = os.path.join(directory, "quote.lua")
    with open(path, "w") as f:
        f.write(WRK_SCRIPT % {"samples": samples})
    return path


def run_wrk(wrk: str, script: str, base: str, connections: int, seconds: int) -> Run:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script, base]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("CADENCE_BENCH ")), None)
    if done.returncode != 0 or line is None:
        msg = f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        raise SystemExit(msg)
    requests, duration_us, *errors, p50_us, p99_us = (int(x) for x in line.split()[1:])
    if any(errors):
        names = ("connect", "read", "write", "status (non-2xx)", "timeout")
        detail = ", ".join(f"{n}: {e}" for n, e in zip(names, errors, strict=True) if e)
        msg = f"wrk saw errors on {base} ({detail})"
        raise SystemExit(msg)
    return Run(requests / (duration_us / 1e6), p50_us / 1000, p99_us / 1000)


def run_python_client(base: str, connections: int, seconds: float, processes: int) -> Run:
    start_at = time.time() + 2.0  # time for every process to import httpx and connect
    per = max(1, connections // processes)
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE), "--load", base, str(per), repr(start_at), repr(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            msg = f"the load process failed ({proc.returncode})"
            raise SystemExit(msg)
        results.append(json.loads(out))
    if sum(r["errors"] for r in results):
        msg = f"non-200 answers from {base}"
        raise SystemExit(msg)
    latencies = sorted(x for r in results for x in r["latencies"])
    if not latencies:
        msg = f"no request to {base} completed"
        raise SystemExit(msg)
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return Run(len(latencies) / seconds, p50, p99)


# ---------------------------------------------------------------------------- measurements


@dataclass
class Row:
    key: str
    label: str
    cadence: list[Run] = field(default_factory=list)
    plain: list[Run] = field(default_factory=list)
    target: float | None = TARGET
    note: str = ""

    def rps(self, side: str) -> float:
        return statistics.median(r.rps for r in getattr(self, side))

    def ratio(self) -> float:
        return self.rps("cadence") / self.rps("plain")

    def latency(self, side: str) -> tuple[float, float] | None:
        runs = getattr(self, side)
        if any(r.p50_ms is None for r in runs):
            return None
        return statistics.median(r.p50_ms for r in runs), statistics.median(r.p99_ms for r in runs)


def measure_server(
    rounds: int, seconds: float, warmup: float, connections: int, use_wrk: bool, say: Any
) -> Row:
    wrk = shutil.which("wrk") if use_wrk else None
    processes = 2
    if wrk is None:
        if use_wrk:
            say("wrk is not installed (apt-get install wrk): falling back to a Python (httpx) load generator")
        row = Row(
            "server",
            f"server: {http_impl()}, httpx ×{processes} processes",
            target=None,
            note=(
                f"server row: load from {processes} httpx processes, {connections} connections in all. "
                "A Python client saturates before the server does, so the client sets the pace and the "
                "ratio says little: no target. Install wrk (apt-get install wrk) for this row."
            ),
        )
    else:
        row = Row("server", f"server: {http_impl()}, wrk -c{connections}")
    with ExitStack() as stack:
        bases = {which: stack.enter_context(server(which)) for which in APPS}
        check_servers(bases)
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="cadence-bench-http-"))
        script = wrk_script(directory) if wrk else ""

        def one(which: str, secs: float) -> Run:
            if wrk:
                return run_wrk(wrk, script, bases[which], connections, secs)
            return run_python_client(bases[which], connections, secs, processes)

        for which in APPS:  # warm up both servers
            one(which, warmup)
        for r in range(rounds):
            order = ("cadence", "plain") if r % 2 == 0 else ("plain", "cadence")
            for which in order:
                run = one(which, seconds)
                getattr(row, which).append(run)
                say(f"  round {r + 1}/{rounds} {which}: {run.rps:,.0f} req/s")
    return row


IN_PROCESS = {
    "httpx": ("in-process: httpx.ASGITransport client", TARGET),
    "bare": ("in-process: bare ASGI calls (stricter)", TARGET),
}


async def _measure_in_process(driver: str, repeats: int, batch_seconds: float) -> Row:
    ask, close = in_process_askers(driver)
    try:
        n = len(sample_requests())
        same_answers(driver, {which: [await ask(which, i) for i in range(n)] for which in APPS})

        async def batch(which: str, n: int) -> float:
            gc.collect()  # the collector then runs during the batch as it would in a server
            start = time.perf_counter()
            for i in range(n):
                status, _ = await ask(which, i)
                if status != 200:
                    msg = f"{driver}: {which} answered {status}"
                    raise SystemExit(msg)
            return time.perf_counter() - start

        for which in APPS:  # warm up
            await batch(which, 300)
        took = await batch("cadence", 100)
        n = max(n, round(100 * batch_seconds / took))
        label, target = IN_PROCESS[driver]
        row = Row(driver, label, target=target)
        for r in range(repeats):
            order = ("cadence", "plain") if r % 2 == 0 else ("plain", "cadence")
            for which in order:
                getattr(row, which).append(Run(n / await batch(which, n)))
        return row
    finally:
        await close()


def measure_in_process(driver: str, repeats: int, batch_seconds: float) -> Row:
    return asyncio.run(_measure_in_process(driver, repeats, batch_seconds))


# ---------------------------------------------------------------------------- report


def print_table(rows: list[tuple[str, str, str, str, str, str]]) -> None:
    header = ("workload", "cadence", "plain", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    aligns = ("<", ">", ">", ">", ">", "<")

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths, strict=True)).rstrip()

    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (a rough look)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any figure misses its target")
    parser.add_argument("--only", help="comma-separated rows to run: server,httpx,bare")
    parser.add_argument("--connections", type=int, default=32, help="open connections under load (32)")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator even with wrk")
    parser.add_argument("--verbose", action="store_true", help="print every round as it is measured")
    parser.add_argument("--serve", choices=sorted(APPS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=4, metavar=("URL", "N", "AT", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if args.load:
        base, connections, start_at, duration = args.load
        load(base, int(connections), float(start_at), float(duration))
        return 0

    if args.quick:
        rounds, seconds, warmup, repeats, batch_seconds = 3, 1, 1, 9, 0.05
    else:
        rounds, seconds, warmup, repeats, batch_seconds = 7, 3, 2, 21, 0.2
    only = set(args.only.split(",")) if args.only else {"server", "httpx", "bare"}

    def say(text: str) -> None:
        if args.verbose or not text.startswith("  "):
            print(text, flush=True)

    started = time.perf_counter()
    rows: list[Row] = []
    if "server" in only:
        rows.append(measure_server(rounds, seconds, warmup, args.connections, not args.no_wrk, say))
    for driver in ("httpx", "bare"):
        if driver in only:
            rows.append(measure_in_process(driver, repeats, batch_seconds))

    table: list[tuple[str, str, str, str, str, str]] = []
    missed: list[str] = []
    notes: list[str] = []
    costs: list[str] = []
    for row in rows:
        ratio = row.ratio()
        if row.target is None:
            target, verdict = "—", ""
        else:
            ok = ratio >= row.target
            target, verdict = f"≥ {row.target:g}×", "PASS" if ok else "MISS"
            if not ok:
                missed.append(row.key)
        cells = (f"{row.rps('cadence'):,.0f} req/s", f"{row.rps('plain'):,.0f} req/s")
        table.append((row.label, *cells, f"{ratio:.2f}×", target, verdict))
        lat = (row.latency("cadence"), row.latency("plain"))
        if lat[0] is not None and lat[1] is not None:
            cells = tuple(f"{p50:.1f} / {p99:.1f} ms" for p50, p99 in lat)
            table.append(("  latency p50 / p99", *cells, "", "", ""))
        if row.note:
            notes.append(row.note)
        costs.append(f"{row.key} {1e6 / row.rps('cadence') - 1e6 / row.rps('plain'):+.0f} µs")

    mode = "quick" if args.quick else "full"
    print(
        f"requests/s through a cadence endpoint vs the same endpoint in plain async code ({mode}: "
        f"server {rounds} rounds × {seconds:g} s, in-process {repeats} batches; medians, interleaved)"
    )
    print_table(table)
    if costs:
        print(f"time the cadence adds per request (1/rate, cadence − plain): {', '.join(costs)}")
    for note in notes:
        print(note)
    summary_line = f"missed: {', '.join(missed)}" if missed else "all targets met"
    print(f"{summary_line}  ({time.perf_counter() - started:.1f} s, Python {sys.version.split()[0]})")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
