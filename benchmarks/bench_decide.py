"""Per-request cost of the middleware with every defence, in process (no HTTP), on both loops.

.venv/bin/python -m benchmarks.bench_decide [--requests 20000] [--rounds 5] [--store memory|redis]
    [--metrics]

Calls the protected demo (benchmarks/apps.py `protected`: limits no load reaches, so every
request takes the whole path to the app) as an ASGI app, with Firefox's navigation headers and
a visitor token (the identity defence's path for a person's page view: budgets read, the young
token counted in its fingerprint's pool, the token's return marked), 32
requests at a time, on asyncio and on uvloop; prints µs per request (median of the rounds) for
the bare gallery and the protected one. To compare two trees, run it from each, alternately
(`PYTHONPATH=<tree>/src:<tree>`); the difference of the protected figures is the change's cost.
`--metrics` adds a third app, the protected one with Prometheus metrics on (`metered`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import uvloop
from tests.browsers import firefox
from tests.servers import RedisServer

from benchmarks import apps
from scrapeshield import ScrapeShield, Shield

# Firefox's navigation headers in its order (tests/browsers.py): a person's page view, which
# the header fingerprints judge as the browser it is (User-Agent second: visitor_cookie binds it).
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    *((name.lower().encode(), value.encode()) for name, value in firefox().items()),
]
VISITOR_KEY = "bench-visitor-key-0123456789"


def visitor_cookie() -> bytes:
    """A valid visitor token for the benchmark's client (a person's browser holds one after
    its first page), or, in a tree without identity, a cookie of the same size: both trees
    then read the same header."""
    os.environ["SCRAPESHIELD_IDENTITY__SECRET_KEYS"] = VISITOR_KEY
    try:
        from scrapeshield.challenge.tokens import Signer, binding_for
        from scrapeshield.identity.token import KIND
    except ImportError:
        return b"__ss_vid=" + b"x" * 180
    now = int(time.time())
    binding = binding_for("127.0.0.0/24", HEADERS[1][1].decode())
    payload = {"v": "bench-visitor", "b": binding, "iat": now, "exp": now + 86_400}
    return b"__ss_vid=" + Signer([VISITOR_KEY.encode()]).sign(KIND, payload).encode()


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/artworks/7",
        "raw_path": b"/artworks/7",
        "query_string": b"",
        "root_path": "",
        "headers": HEADERS,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def run(app: Any, requests: int, concurrency: int = 32) -> float:
    """µs per request, `concurrency` requests in flight at a time."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def one() -> None:
        await app(scope(), receive, send)

    for _ in range(200):  # warm-up
        await one()
    started = time.perf_counter()
    for _ in range(requests // concurrency):
        await asyncio.gather(*(one() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"not every request reached the app: {sorted(set(statuses))}")
    return elapsed / (requests // concurrency * concurrency) * 1e6


async def measure(label: str, requests: int) -> float:
    if label == "bare":
        return await run(apps.bare(), requests)
    os.environ["BENCH_METRICS"] = "on" if label == "metered" else "off"
    shield = Shield(apps.bench_settings())
    try:
        return await run(ScrapeShield(apps.bare(), shield=shield), requests)
    finally:
        await shield.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", choices=["memory", "redis"], default="memory")
    parser.add_argument("--metrics", action="store_true", help="also with metrics on")
    options = parser.parse_args()
    HEADERS.append((b"cookie", visitor_cookie()))
    server = RedisServer.start() if options.store == "redis" else None
    os.environ["BENCH_STORE_URL"] = server.url if server else "memory://"
    try:
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(options.rounds):
            for loop_name, factory in LOOPS.items():
                for label in ("bare", "protected", "metered")[: 3 if options.metrics else 2]:
                    loop = factory()
                    try:
                        cost = loop.run_until_complete(measure(label, options.requests))
                    finally:
                        loop.close()
                    results.setdefault((loop_name, label), []).append(cost)
    finally:
        if server is not None:
            server.stop()
    for (loop_name, label), costs in results.items():
        print(
            f"{options.store:6} {loop_name:7} {label:9} {statistics.median(costs):6.1f} µs/request"
            f"  (rounds: {', '.join(f'{c:.1f}' for c in costs)})"
        )


if __name__ == "__main__":
    main()
