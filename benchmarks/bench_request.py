"""One request's cost in process: the bare gallery beside scrapeshield as shipped, side by side.

.venv/bin/python -m benchmarks.bench_request [--requests 5000] [--rounds 5] [--path /artworks/7]
    [--image] [--loop asyncio|uvloop] [--profile] [--sort tottime] [--top 40] [--breakdown]
    [--concurrency 1] [--store memory|redis] [--cookie] [--socket]

Calls the apps of `benchmarks/run.py` (`apps.bare`, `apps.protected`: every defence, memory
store, limits and scores out of reach, so each request takes a person's whole path to the app)
as ASGI apps, one request at a time, with the Chrome link click `run` sends (its header order,
Host first). The apps alternate for `--rounds` rounds after a warm-up and the best round of each
is printed, so a busy neighbour on a shared machine slows both alike. Time is the process's CPU
time (`time.process_time`), not the wall clock: another process's turn on the core is not
counted, though what it does to the caches still is. `--image` asks for an
original (`/images/7.png`, `Sec-Fetch-Dest: image`). `--profile` runs the shipped app under
cProfile instead and prints the functions that cost most (`--sort`, `--top`). `--breakdown`
adds, to the same alternation, the shipped app without one defence's detectors at a time (and
without any): the difference to the shipped app is what that defence costs in the pipeline,
caches and all, which a detector timed alone in a loop understates. `--store redis` starts a
redis-server of its own for the shipped app's store, and `--concurrency 32` sends 32 requests
at a time (as wrk -c32 does), so the Redis store's commands are coalesced as under load.
`--cookie` sends, with every request to every app, the visitor cookie the shipped app issued
with a first page (a returning person's path: a valid token, no issuance). `--socket` also
writes each response (its status line and headers as uvicorn writes them, then its body) through
a loopback TCP connection and reads it back, as a server does: the kernel's network path between
requests, which leaves the caches colder for the next one, is what most of the gap between these
figures and a server's CPU per request under wrk is made of (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import socket
import time
from collections.abc import Callable
from typing import Any

import uvloop

from benchmarks import apps
from benchmarks.bench_ratelimit import redis_server
from benchmarks.run import BROWSER_HEADERS
from scrapeshield.middleware import ScrapeShield

# Each defence's detectors by name (defences.build_detectors); `--breakdown` drops one at a time.
DEFENCES: dict[str, frozenset[str] | None] = {
    "identity": frozenset({"identity"}),
    "behaviour": frozenset({"behaviour", "trap"}),
    "rate limit": frozenset({"ratelimit"}),
    "fingerprint": frozenset(
        {"useragent", "webbotauth", "headers", "verified", "datacenter", "unverified"}
    ),
    "challenge pass": frozenset({"challenge-pass"}),
    "every detector": None,
}
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def headers(image: bool) -> list[tuple[bytes, bytes]]:
    """`run`'s Chrome headers (wrk puts Host first); for an original, an image's fetch fields."""
    out = [(b"host", b"127.0.0.1:8000")]
    for line in BROWSER_HEADERS:
        name, value = line.split(": ", 1)
        if image and name == "accept":
            value = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
        elif image and name in ("sec-fetch-mode", "sec-fetch-dest"):
            value = "no-cors" if name == "sec-fetch-mode" else "image"
        elif image and name in ("sec-fetch-user", "upgrade-insecure-requests"):
            continue
        out.append((name.encode(), value.encode()))
    return out


class Driver:
    """Calls one ASGI app with the same request, after its lifespan startup."""

    def __init__(self, app: Any, path: str, image: bool, wire: bool = False) -> None:
        self.app = app
        self.wire = loopback_pair() if wire else None
        self.statuses: set[int] = set()
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers(image),
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        self._lifespan: asyncio.Queue[dict[str, Any]] | None = None

    async def start(self) -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        self._task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
        )
        started = await asyncio.wait_for(outbox.get(), 30)
        if started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {started}")
        self._lifespan = inbox
        self._outbox = outbox

    async def stop(self) -> None:
        for end in self.wire or ():
            end.close()
        if self._lifespan is not None:
            await self._lifespan.put({"type": "lifespan.shutdown"})
            await asyncio.wait_for(self._outbox.get(), 30)
            await asyncio.wait_for(self._task, 30)

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.statuses.add(message["status"])
        if self.wire is not None:  # --socket: through the kernel, as a server's response
            out, back = self.wire
            if message["type"] == "http.response.start":
                fields = b"".join(k + b": " + v + b"\r\n" for k, v in message["headers"])
                data = b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n"
            else:
                data = message.get("body", b"")
            out.sendall(data)
            left = len(data)
            while left:
                left -= len(back.recv(left))

    async def run(self, requests: int, concurrency: int = 1) -> float:
        """CPU µs per request, `concurrency` at a time (each request gets its own copy of the
        scope, which the app may change)."""
        app, receive, send, scope = self.app, self.receive, self.send, self.scope
        each = max(1, requests // concurrency)

        async def one_by_one() -> None:
            for _ in range(each):
                await app(dict(scope), receive, send)

        started = time.process_time()
        await asyncio.gather(*(one_by_one() for _ in range(concurrency)))
        elapsed = time.process_time() - started
        requests = each * concurrency
        if self.statuses != {200}:
            raise RuntimeError(f"not every request reached the app: {sorted(self.statuses)}")
        return elapsed / requests * 1e6


def loopback_pair() -> tuple[socket.socket, socket.socket]:
    """Both ends of a TCP connection on 127.0.0.1 (blocking: a response is read at once)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        out = socket.create_connection(server.getsockname()[:2])
        back, _ = server.accept()
    out.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return out, back


async def visitor_cookie(driver: Driver) -> bytes:
    """The visitor token the shipped app sets with a page (every app signs with BENCH_KEY)."""
    found: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            found.extend(v for k, v in message["headers"] if k == b"set-cookie")

    page = Driver(driver.app, "/artworks/7", image=False)  # the started app, a page's scope
    await page.app(dict(page.scope), page.receive, send)
    cookie = next((v.split(b";")[0] for v in found if v.startswith(b"__ss_vid=")), None)
    if cookie is None:
        raise RuntimeError("the shipped app issued no visitor token")
    return cookie


def without(defence: str) -> Any:
    """The shipped app without one defence's detectors (None: without any)."""
    app = apps.protected()
    app.middleware_stack = app.build_middleware_stack()
    middleware: Any = app.middleware_stack
    while not isinstance(middleware, ScrapeShield):
        middleware = middleware.app
    names = DEFENCES[defence]
    detectors = middleware.shield.detectors
    detectors[:] = [] if names is None else [d for d in detectors if d.name not in names]
    return app


async def compare(options: argparse.Namespace) -> None:
    drivers = {
        "bare": Driver(apps.bare(), options.path, options.image, options.socket),
        "as shipped": Driver(apps.protected(), options.path, options.image, options.socket),
    }
    if options.breakdown:
        for defence in DEFENCES:
            app = without(defence)
            drivers[f"- {defence}"] = Driver(app, options.path, options.image, options.socket)
    for driver in drivers.values():
        await driver.start()
    if options.cookie:
        cookie = await visitor_cookie(drivers["as shipped"])
        for driver in drivers.values():
            driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
    for driver in drivers.values():
        await driver.run(1000, options.concurrency)  # warm-up: caches, UA parser, connections
    if options.profile:
        profile = cProfile.Profile()
        profile.enable()
        await drivers["as shipped"].run(options.requests, options.concurrency)
        profile.disable()
        stats = pstats.Stats(profile).strip_dirs().sort_stats(options.sort)
        stats.print_stats(options.top)
    else:
        best = dict.fromkeys(drivers, float("inf"))
        rounds: dict[str, list[float]] = {name: [] for name in drivers}
        for _ in range(options.rounds):
            for name, driver in drivers.items():
                cost = await driver.run(options.requests, options.concurrency)
                rounds[name].append(cost)
                best[name] = min(best[name], cost)
        bare, shipped = best["bare"], best["as shipped"]
        print(
            f"{options.loop}, {options.path}{' (image)' if options.image else ''}, "
            f"{options.store} store, {options.concurrency} at a time, "
            f"{options.requests} requests x {options.rounds} rounds, best round:"
        )
        for name in drivers:
            every = ", ".join(f"{c:.1f}" for c in rounds[name])
            print(f"  {name:16} {best[name]:6.1f} µs/request  (rounds: {every})")
        print(f"  scrapeshield adds {shipped - bare:.1f} µs; bare/shipped = {bare / shipped:.2f}")
        for name in drivers:
            if name.startswith("- "):
                cost = shipped - best[name]
                print(f"  {name[2:]:15} costs {cost:5.1f} µs of the shipped request")
    for driver in drivers.values():
        await driver.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--path", default="/artworks/7")
    parser.add_argument("--image", action="store_true", help="an original: /images/7.png")
    parser.add_argument("--loop", choices=sorted(LOOPS), default="asyncio")
    parser.add_argument("--profile", action="store_true", help="cProfile the shipped app")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--breakdown", action="store_true", help="each defence's share")
    parser.add_argument("--concurrency", type=int, default=1, help="requests at a time")
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    parser.add_argument("--cookie", action="store_true", help="a valid visitor cookie")
    parser.add_argument("--socket", action="store_true", help="responses through loopback TCP")
    options = parser.parse_args()
    if options.image and options.path == "/artworks/7":
        options.path = "/images/7.png"
    with contextlib.ExitStack() as stack:
        if options.store == "redis":  # a redis-server of its own, for the apps' shields
            os.environ["BENCH_STORE_URL"] = stack.enter_context(redis_server())
        loop = LOOPS[options.loop]()
        try:
            loop.run_until_complete(compare(options))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
