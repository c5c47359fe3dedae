"""What the least a per-request shield can do costs over HTTP: the floor under issue 19's targets.

.venv/bin/python -m benchmarks.bench_floor [--seconds 5] [--rounds 3] [--stack uvloop|h11]

Serves the demo gallery four ways with one uvicorn worker and loads each with wrk -t1 -c32
(the artwork page and Firefox's headers of `benchmarks.run`), alternated for `--rounds`: the
bare app, a middleware that does nothing, `Floor` below, and scrapeshield as shipped (memory
store). `Floor` does what any shield must do on every request and nothing more: find the
cookie and the user agent among the header lines, count the client in a bounded table keyed
by address, cookie and a 10-second window, look the user agent up in a verdict cache, and add
the three directive headers a page gets. Its ratio to bare is the ceiling of any design in
Python on this stack; the gap between it and issue 19's target (0.75 of bare on httptools +
uvloop) is what the rest of a request's work may cost.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from typing import Any

from starlette.applications import Starlette
from tests.servers import free_port, wait_for_port

from benchmarks.bench_ratelimit import BROWSER_HEADERS, PATH
from scrapeshield.demo.app import create_gallery

DIRECTIVES = [
    (b"x-robots-tag", b"noai, noimageai"),
    (b"tdm-reservation", b"1"),
    (b"content-usage", b"train-ai=n"),
]
MAX_CLIENTS = 100_000
STACKS = {
    "uvloop": ("--http", "httptools", "--loop", "uvloop"),
    "h11": ("--http", "h11", "--loop", "asyncio"),
}


class Floor:
    """The least a shield does per request: read two headers, count the client, add headers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: dict[tuple[str, bytes, int], int] = {}
        self.agents: dict[bytes, bool] = {}  # a user-agent verdict cache's hit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = agent = b""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value
            elif name == b"user-agent":
                agent = value
        key = (scope["client"][0], cookie, int(time.time()) // 10)
        if len(self.counts) >= MAX_CLIENTS:
            self.counts.clear()
        self.counts[key] = self.counts.get(key, 0) + 1
        verdict = self.agents.get(agent)
        if verdict is None:
            if len(self.agents) >= MAX_CLIENTS:
                self.agents.clear()
            verdict = self.agents[agent] = bool(agent)
        if not verdict:  # (never, with wrk's Firefox headers)
            await self.app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *DIRECTIVES]
            await send(message)

        await self.app(scope, receive, sending)


def floor() -> Starlette:
    app = create_gallery()
    app.add_middleware(Floor)
    return app


VARIANTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("bare", "benchmarks.apps:bare", {}),
    ("no-op middleware", "benchmarks.apps:noop", {}),
    ("floor", "benchmarks.bench_floor:floor", {}),
    (
        "scrapeshield as shipped, memory",
        "benchmarks.apps:protected",
        {"BENCH_DEFENCES": "all", "BENCH_STORE_URL": "memory://"},
    ),
)


def requests_per_second(factory: str, env: dict[str, str], stack: str, seconds: float) -> float:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--no-proxy-headers", "--no-access-log",
        "--log-level", "warning", *STACKS[stack],
    ]  # fmt: skip
    server = subprocess.Popen(command, env={**os.environ, **env})
    try:
        wait_for_port(port, timeout=20)
        load = ["wrk", "-t1", "-c32", *[a for h in BROWSER_HEADERS for a in ("-H", h)]]
        url = f"http://127.0.0.1:{port}{PATH}"
        subprocess.run([*load, "-d1s", url], capture_output=True, check=True, timeout=60)
        out = subprocess.run(
            [*load, f"-d{seconds:g}s", url], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if found is None:
            raise RuntimeError(f"wrk printed no rate:\n{out}")
        return float(found.group(1))
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", choices=sorted(STACKS), default="uvloop")
    options = parser.parse_args()
    rates: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    for _ in range(options.rounds):
        for name, factory, env in VARIANTS:
            rates[name].append(requests_per_second(factory, env, options.stack, options.seconds))
    bare = statistics.median(rates["bare"])
    print(f"{options.stack}, wrk -t1 -c32, {options.seconds:g} s, median of {options.rounds}")
    for name, runs in rates.items():
        median = statistics.median(runs)
        each = ", ".join(f"{r:,.0f}" for r in runs)
        print(f"  {name:32} {median:9,.0f} req/s  {median / bare:.2f} of bare  ({each})")


if __name__ == "__main__":
    main()
