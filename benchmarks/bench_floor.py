"""What the least a per-request shield can do costs over HTTP: the floor under issue 19's targets.

.venv/bin/python -m benchmarks.bench_floor [--seconds 5] [--rounds 3] [--stack uvloop|h11]
    [--set floor|hit] [--only "floor|record"]

Serves the demo gallery four ways with one uvicorn worker and loads each with wrk -t1 -c32
(the artwork page and Firefox's headers of `benchmarks.run`), alternated for `--rounds`: the
bare app, a middleware that does nothing, `Floor` below, and scrapeshield as shipped (memory
store). `Floor` does what any shield must do on every request and nothing more: find the
cookie and the user agent among the header lines, count the client in a bounded table keyed
by address, cookie and a 10-second window, look the user agent up in a verdict cache, and add
the three directive headers a page gets. Its ratio to bare is the ceiling of any design in
Python on this stack; the gap between it and issue 19's target (0.75 of bare on httptools +
uvloop) is what the rest of a request's work may cost.

`--set hit` serves instead the variants between the floor and a lane hit on the compact record
(`lane_record.RecordProbe`), loaded with `benchmarks.run`'s one page (Chrome's link click), to
find where such a hit's server CPU goes over HTTP (docs/log/architecture.md, "Where a hit's server
CPU goes over HTTP"): `Replay` (the hit's skeleton in a plain middleware: the record's key, one
table lookup, the decision put in `scope["state"]`, the stored headers added by the shield's
send wrapper) whole and without each part, and the record probe itself uncounted without
misses (a cap no load reaches), uncounted, counting without misses, and as `benchmarks.run`
serves it; then uncounted with every request a miss (cap 0) and scrapeshield as shipped, for a
miss's cost. `--only "floor|record"`: bare and the variants whose name holds either text.

Every variant is served at once by its own worker and loaded in turn (short runs alternate
finely: the shared machine's swings fall on every variant alike). Per variant: requests/s and
ratio to bare (medians), the server's CPU µs a request (user + system from /proc over the
measured run), its ratio to bare's and the median of each round's difference with bare's, and
per 1,000 requests the gen0 garbage collections and, for a probe, its misses (read from the
server at SIGUSR1).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from tests.servers import free_port, wait_for_port

from benchmarks import bench_ratelimit, lane_probe, run
from benchmarks.bench_ratelimit import PATH
from benchmarks.lane_record import record_key
from scrapeshield.demo.app import create_gallery
from scrapeshield.middleware import STATE_KEY, _append_headers

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


REPLAY_PARTS = frozenset({"key", "state", "headers"})


class Replay:
    """A lane hit's skeleton outside the shield, its parts (`parts`, of REPLAY_PARTS) each to be
    left out: `key`, the record probe's key (peer, the header lines but the Referer as one
    tuple, method, route kind) and one lookup of a table whose first request stores the three
    directive headers; `state`, a decision put in `scope["state"]`; `headers`, the stored
    headers added by the shield's send wrapper (`middleware._append_headers`)."""

    def __init__(self, app: Any, parts: frozenset[str] = REPLAY_PARTS) -> None:
        self.app, self.parts = app, parts
        self.table: dict[Any, list[tuple[bytes, bytes]]] = {}
        self.decision = object()  # (what is stored is not read here)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = DIRECTIVES
        if "key" in self.parts:
            key = record_key(scope)
            stored = self.table.get(key)
            if stored is None:
                if len(self.table) >= MAX_CLIENTS:
                    self.table.clear()
                stored = self.table[key] = DIRECTIVES
            headers = stored
        if "state" in self.parts:
            scope.setdefault("state", {})[STATE_KEY] = self.decision
        if "headers" in self.parts:
            send = partial(_append_headers, headers, send)
        await self.app(scope, receive, send)


def replay() -> Starlette:
    """`Replay` with BENCH_REPLAY's parts (comma-separated; default: all)."""
    parts = os.environ.get("BENCH_REPLAY", ",".join(sorted(REPLAY_PARTS))).split(",")
    app = create_gallery()
    app.add_middleware(Replay, parts=frozenset(p for p in parts if p))
    return app


def served() -> Any:
    """BENCH_FLOOR_APP's app (module:factory), which at SIGUSR1 writes to BENCH_FLOOR_STATS
    (JSON) Python's garbage collections so far per generation and the lane probes' hits and
    misses."""
    module, _, name = os.environ["BENCH_FLOOR_APP"].partition(":")
    app = getattr(importlib.import_module(module), name)()
    out = Path(os.environ["BENCH_FLOOR_STATS"])

    def note(signum: int, frame: FrameType | None) -> None:
        probes = lane_probe.PROBES
        figures = {
            "collections": [generation["collections"] for generation in gc.get_stats()],
            "hits": sum(p.hits for p in probes),
            "misses": sum(p.misses for p in probes),
        }
        out.write_text(json.dumps(figures), encoding="utf-8")

    signal.signal(signal.SIGUSR1, note)
    return app


_Variants = tuple[tuple[str, str, dict[str, str]], ...]
VARIANTS: _Variants = (
    ("bare", "benchmarks.apps:bare", {}),
    ("no-op middleware", "benchmarks.apps:noop", {}),
    ("floor", "benchmarks.bench_floor:floor", {}),
    (
        "scrapeshield as shipped, memory",
        "benchmarks.apps:protected",
        {"BENCH_DEFENCES": "all", "BENCH_STORE_URL": "memory://"},
    ),
)
_RECORD = {"BENCH_LANE_RECORD": "on", "BENCH_STORE_URL": "memory://"}
_UNCOUNTED = {**_RECORD, "BENCH_LANE_COUNT": ""}
_NO_MISS = {"BENCH_LANE_CAP": "1000000000"}  # (the limits' quotas are as large: all hits)
HIT_VARIANTS: _Variants = (
    ("bare", "benchmarks.apps:bare", {}),
    ("floor", "benchmarks.bench_floor:floor", {}),
    ("replay (key, state, headers)", "benchmarks.bench_floor:replay", {}),
    ("replay without key", "benchmarks.bench_floor:replay", {"BENCH_REPLAY": "state,headers"}),
    ("replay without state", "benchmarks.bench_floor:replay", {"BENCH_REPLAY": "key,headers"}),
    ("replay without headers", "benchmarks.bench_floor:replay", {"BENCH_REPLAY": "key,state"}),
    ("record, uncounted, no misses", "benchmarks.apps:lane", {**_UNCOUNTED, **_NO_MISS}),
    ("record, uncounted", "benchmarks.apps:lane", _UNCOUNTED),
    ("record, no misses", "benchmarks.apps:lane", {**_RECORD, **_NO_MISS}),
    ("record (as benchmarks.run)", "benchmarks.apps:lane", _RECORD),
    (
        "record, uncounted, every one a miss",
        "benchmarks.apps:lane",
        {**_UNCOUNTED, "BENCH_LANE_CAP": "0"},
    ),
    (
        "scrapeshield as shipped, memory",
        "benchmarks.apps:protected",
        {"BENCH_STORE_URL": "memory://"},
    ),
)
SETS = {
    "floor": (VARIANTS, bench_ratelimit.BROWSER_HEADERS),
    "hit": (HIT_VARIANTS, run.BROWSER_HEADERS),
}


class Measured:
    """One variant's runs: req/s, server CPU µs a request, gen0 collections and probe misses
    per 1,000 requests."""

    def __init__(self) -> None:
        self.rps: list[float] = []
        self.cpu: list[float] = []
        self.gen0: list[float] = []
        self.misses: list[float] = []


class Server:
    """One variant served by its own uvicorn worker (through `served`) for the whole run."""

    def __init__(self, factory: str, env: dict[str, str], stack: str, folder: str) -> None:
        self.port = free_port()
        self.stats = Path(folder, f"stats-{self.port}")
        command = [
            sys.executable, "-m", "uvicorn", "benchmarks.bench_floor:served", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            "--no-proxy-headers", "--no-access-log", "--log-level", "warning", *STACKS[stack],
        ]  # fmt: skip
        extra = {"BENCH_FLOOR_APP": factory, "BENCH_FLOOR_STATS": str(self.stats)}
        self.process = subprocess.Popen(command, env={**os.environ, **env, **extra})

    def load(self, seconds: float, headers: tuple[str, ...]) -> tuple[float, float, float, float]:
        """wrk -t1 -c32 for `seconds`: req/s, CPU µs a request, gen0 collections and probe
        misses per 1,000 requests."""
        load = ["wrk", "-t1", "-c32", *[a for h in headers for a in ("-H", h)]]
        url = f"http://127.0.0.1:{self.port}{PATH}"
        before, cpu = self.figures(), run.process_cpu(self.process.pid)
        out = subprocess.run(
            [*load, f"-d{seconds:g}s", url], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        cpu = run.process_cpu(self.process.pid) - cpu
        after = self.figures()
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        sent = re.search(r"(\d+) requests in", out)
        if found is None or sent is None or "Non-2xx" in out:
            raise RuntimeError(f"wrk printed no rate, or refusals:\n{out}")
        n = int(sent.group(1))
        gen0 = after["collections"][0] - before["collections"][0]
        misses = after["misses"] - before["misses"]
        return float(found.group(1)), cpu / n * 1e6, gen0 / n * 1e3, misses / n * 1e3

    def figures(self) -> dict[str, Any]:
        """What the server writes at SIGUSR1 (`served`)."""
        self.stats.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        for _ in range(500):
            if self.stats.exists():
                try:
                    figures: dict[str, Any] = json.loads(self.stats.read_text(encoding="utf-8"))
                except ValueError:  # (being written)
                    pass
                else:
                    return figures
            time.sleep(0.01)
        raise RuntimeError("the server wrote no figures at SIGUSR1")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", choices=sorted(STACKS), default="uvloop")
    parser.add_argument("--set", choices=sorted(SETS), default="floor", dest="variants")
    parser.add_argument("--only", default="", help='variants named so ("a|b": either; and bare)')
    options = parser.parse_args()
    variants, headers = SETS[options.variants]
    if options.only:
        texts = options.only.split("|")
        variants = tuple(v for v in variants if v[0] == "bare" or any(t in v[0] for t in texts))
    runs = {name: Measured() for name, _, _ in variants}
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory() as folder:
        try:
            for name, factory, env in variants:  # all served at once, loaded in turn
                servers[name] = Server(factory, env, options.stack, folder)
            for server in servers.values():
                wait_for_port(server.port, timeout=30)
                server.load(1, headers)  # warm-up
            for _ in range(options.rounds):
                for name, server in servers.items():
                    rps, cpu, gen0, misses = server.load(options.seconds, headers)
                    m = runs[name]
                    m.rps.append(rps)
                    m.cpu.append(cpu)
                    m.gen0.append(gen0)
                    m.misses.append(misses)
        finally:
            for server in servers.values():
                server.stop()
    report(options, runs)


def report(options: argparse.Namespace, runs: dict[str, Measured]) -> None:
    """Medians; CPU over bare also as the median of each round's difference with bare's."""
    bare = runs["bare"]
    bare_rps, bare_cpu = statistics.median(bare.rps), statistics.median(bare.cpu)
    print(f"{options.stack}, wrk -t1 -c32, {options.seconds:g} s, median of {options.rounds}")
    print(
        f"  {'variant':32} {'req/s':>9}  of bare  {'CPU µs':>6}  of bare  over bare"
        "  gen0/1k  misses/1k"
    )
    for name, m in runs.items():
        rps, cpu = statistics.median(m.rps), statistics.median(m.cpu)
        over = statistics.median(c - b for c, b in zip(m.cpu, bare.cpu, strict=True))
        cpus = ", ".join(f"{c:.1f}" for c in m.cpu)
        print(
            f"  {name:32} {rps:9,.0f}  {rps / bare_rps:7.2f}  {cpu:6.1f}  {bare_cpu / cpu:7.2f}"
            f"  {over:+9.1f}  {statistics.median(m.gen0):7.2f}  {statistics.median(m.misses):9.1f}"
            f"  (CPU: {cpus})"
        )


if __name__ == "__main__":
    main()
