"""What one uvicorn worker spends per request under load, garbage collection included.

.venv/bin/python -m benchmarks.bench_server_gc [--store redis|memory] [--loop uvloop|asyncio]
    [--seconds 4] [--rounds 2] [--freeze] [--paced PEOPLE [--paced-new 0.25]] [--parts]

Serves `apps.protected` (every defence, limits out of reach: `benchmarks/run.py`'s shipped app)
with uvicorn *in this process* (httptools + uvloop, or h11 + asyncio), loads it with wrk -t1 -c32
and the Chrome link click of `run`, and reads, over the measured run: requests/s, this process's
CPU per request (user and system), how many requests shared one Redis batch, and Python's garbage
collections (per generation: how many, and their wall time, from `gc.callbacks`).

Why: on Redis the requests suspended across a batch keep their objects alive past gen0
collections, and the survivors promoted to the oldest generation bring full collections of the
whole heap (the app, the catalogues, the parsers: ~80,000 tracked objects), which the memory
store, whose requests do not suspend, almost never triggers. `--freeze` alternates, in the same
run, rounds where `gc.freeze()` was called after the warm-up (start-up objects moved out of every
collection), so the two can be compared side by side. `--paced PEOPLE`: `benchmarks.run`'s
paced mix of that many people instead of the one page (their page loads in turn, seconds apart;
a busy site's identity settings, `benchmarks.run.BUSY_SITE`; `--paced-new`: its share of new
visitors, the rest returning, as `benchmarks.run`'s). `--parts`: at the end, the tracked objects
made since start-up by the part of the middleware that holds them (`benchmarks.gc_parts`), and
what one full collection takes then. `--pieces` (with `--paced`): each detector's run and the
facts' build timed inside the served requests (`bench_detectors.instrument`, as `bench_pace
--pieces` in process), by kind of request and by whether its page load was the person's first
in this process (its page's cookie not seen before, the warm-up's included: a first sight makes
the client's plans and reads, verifies its token), and the share of page loads that were.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import resource
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from tests.servers import free_port

from benchmarks import person
from benchmarks.bench_detectors import Spent, instrument
from benchmarks.bench_person import kind_of, shield_of
from benchmarks.bench_ratelimit import BROWSER_HEADERS, PATH, redis_server
from benchmarks.gc_parts import Parts
from benchmarks.run import BUSY_SITE
from scrapeshield.store import redis as redis_store

_BATCHES = [0]


def _count_batches() -> None:
    """Count the store's batches (one per event-loop tick that queued commands)."""
    sent = redis_store.RedisStore._pipeline

    async def counted(self: Any, *batch: Any) -> None:
        _BATCHES[0] += 1
        await sent(self, *batch)

    redis_store.RedisStore._pipeline = counted  # type: ignore[method-assign,assignment]


class Collections:
    """Garbage collections while active: count and wall time per generation."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.spans: list[tuple[float, float, int]] = []  # (start, end, generation)
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            ended = time.perf_counter()
            self.count[info["generation"]] += 1
            self.seconds[info["generation"]] += ended - self._started
            self.spans.append((self._started, ended, info["generation"]))

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        gc.callbacks.append(self)
        try:
            yield
        finally:
            gc.callbacks.remove(self)


class Timed:
    """The app, each HTTP request's wall time in it (start, end) noted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[float, float]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.requests.append((started, time.perf_counter()))


class Sights:
    """`--pieces`: the detectors and the facts timed by kind of request, a person's first page
    load in this process (`first page`, ...) apart from its later ones. Each request's timed
    part runs to its end before the loop turns (the memory store never waits), so the kind
    noted as it enters holds until its detectors are done."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spent: Spent = defaultdict(float)
        self.kind = [""]
        self.counts: Counter[str] = Counter()
        self.seen: set[bytes] = set()  # the cookies of the page loads so far
        self.first = False  # whether the current page load is its person's first
        instrument(self.spent, self.kind)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            kind = kind_of(scope["path"])
            if kind == "page":  # (a page load's requests come together: its page first)
                cookie = next((v for n, v in scope["headers"] if n == b"cookie"), b"")
                self.first = cookie not in self.seen
                self.seen.add(cookie)
            self.kind[0] = key = f"first {kind}" if self.first else kind
            self.counts[key] += 1
        await self.app(scope, receive, send)

    def clear(self) -> None:
        self.spent.clear()
        self.counts.clear()

    def report(self) -> str:
        """µs a request of each piece, by kind and sight."""
        pages = self.counts["page"] + self.counts["first page"]
        lines = [f"  first sights: {self.counts['first page'] / max(pages, 1):.0%} of page loads"]
        for key in (f"{first}{kind}" for kind in KINDS for first in ("first ", "")):
            if not (count := self.counts[key]):
                continue
            each = {n: v / count * 1e6 for (k, n), v in self.spent.items() if k == key}
            pieces = sorted(each.items(), key=lambda p: -p[1])
            lines.append(
                f"    {key:14} ({count:5}): {sum(each.values()):6.1f} µs: "
                + ", ".join(f"{name} {value:.1f}" for name, value in pieces)
            )
        return "\n".join(lines)


KINDS = ("page", "asset", "original")


def slowest(requests: list[tuple[float, float]], collections: Collections) -> str:
    """p50 and p99 of the requests' time in the app, and what ran while those above the p99
    ran: a full collection, a gen1 or gen0 one, or none (then: their own work, or waiting)."""
    times = sorted(end - start for start, end in requests)
    if not times:
        return "no request timed"
    p99 = times[int(len(times) * 0.99)]
    causes = [0, 0, 0, 0]  # full, gen1, gen0, none
    for start, end in requests:
        if end - start < p99:
            continue
        during = [g for s, e, g in collections.spans if s < end and e > start]
        causes[3 - (max(during) + 1) if during else 3] += 1
    share = "/".join(f"{100 * c / max(sum(causes), 1):.0f}" for c in causes)
    return (
        f"in app p50 {times[len(times) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; above "
        f"the p99, % with a full/gen1/gen0/no collection meanwhile: {share}"
    )


def wrk(url: str, seconds: float, mix: Path | None = None) -> tuple[float, int]:
    command = [
        "wrk", "-t1", "-c32", f"-d{seconds:g}s",  # wrk reads "4s", not "4.0s"
        *[arg for header in BROWSER_HEADERS for arg in ("-H", header)], url + PATH,
    ]  # fmt: skip
    if mix is not None:  # the paced mix's requests, from person.lua
        command = person.wrk_command(url, mix, seconds, 32)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    sent = re.search(r"(\d+) requests in", out)
    if rps is None or sent is None or "Non-2xx" in out:
        raise RuntimeError(out)
    return float(rps.group(1)), int(sent.group(1))


def measure(
    url: str,
    seconds: float,
    freeze: bool,
    mix: Path | None = None,
    timed: Timed | None = None,
    sights: Sights | None = None,
) -> str:
    wrk(url, 1, mix)  # warm-up: imports, caches, connections
    if freeze:
        gc.freeze()
    else:
        gc.unfreeze()
    _BATCHES[0] = 0
    collections = Collections()
    if timed is not None:
        timed.requests.clear()
    if sights is not None:
        sights.clear()
    before = resource.getrusage(resource.RUSAGE_SELF)
    with collections.active():
        rps, sent = wrk(url, seconds, mix)
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    per_batch = f"{sent / _BATCHES[0]:5.1f}" if _BATCHES[0] else "    -"
    counts = "/".join(str(c) for c in collections.count)
    spent = "/".join(f"{s * 1000:.0f}" for s in collections.seconds)
    gc_us = sum(collections.seconds) / sent * 1e6
    return (
        f"{'gc.freeze()' if freeze else 'as is':11} {rps:8.0f} req/s  "
        f"CPU {(user + system) / sent * 1e6:4.0f} µs/req (system {system / sent * 1e6:3.0f})  "
        f"{per_batch} req/batch  collections gen0/1/2 {counts}, ms {spent}, "
        f"{gc_us:5.1f} µs/req"
        + (f"\n  {slowest(timed.requests, collections)}" if timed else "")
        + (f"\n{sights.report()}" if sights else "")
    )


def _timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def held(app: Any, parts: Parts) -> str:
    """The tracked objects made since start-up by part (per client: the address resolver's
    cache holds one entry per client seen), after one full collection and once settled (what
    stays tracked for good: `gc_parts`), and what one full collection takes then."""
    gc.unfreeze()
    shield = shield_of(app)
    found, unreached, tracked = parts.after(shield)
    kept, kept_unreached, kept_tracked = parts.after(shield, settled=True)
    made = sum(found.values()) + sum(unreached.values())
    made_kept = sum(kept.values()) + sum(kept_unreached.values())
    clients = max(1, shield.shield.facts_builder._resolver._cached.cache_info().currsize)  # type: ignore[union-attr]
    lines = [
        f"tracked objects {tracked}, made since start-up {made} ({made / clients:.1f} a client, "
        f"{clients} clients); settled {kept_tracked}, {made_kept} ({made_kept / clients:.1f} a "
        "client); by part (a client; settled):"
    ]
    for part, _ in (found + kept).most_common(25):
        lines.append(
            f"  {found[part]:7} {found[part] / clients:6.2f} {kept[part] / clients:6.2f}  {part}"
        )
    lines.append("  unreached from the middleware: " + ", ".join(
        f"{name} {count}" for name, count in unreached.most_common(8)
    ))  # fmt: skip
    took = min(_timed(gc.collect) for _ in range(5))  # (the least: the machine is shared)
    lines.append(
        f"a full collection, settled (least of 5): {took * 1000:.1f} ms "
        f"({took / kept_tracked * 1e9:.0f} ns a tracked object)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=("redis", "memory"), default="redis")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--freeze", action="store_true", help="also rounds with gc.freeze()")
    parser.add_argument("--paced", type=int, default=0, metavar="PEOPLE", help="the paced mix")
    parser.add_argument("--parts", action="store_true", help="tracked objects by part, at the end")
    parser.add_argument(
        "--pieces", action="store_true", help="the detectors timed by kind and first sight"
    )
    person.add_new_share(parser)
    options = parser.parse_args()
    _count_batches()
    with contextlib.ExitStack() as stack:
        url = "memory://" if options.store == "memory" else stack.enter_context(redis_server())
        os.environ.update(BENCH_STORE_URL=url, BENCH_DEFENCES="all")
        if options.paced:
            os.environ.update(BUSY_SITE, BENCH_PERSON="on")
        from benchmarks import apps

        port = free_port()
        http = "httptools" if options.loop == "uvloop" else "h11"
        app = apps.protected()
        parts = Parts()
        timed = Timed(app)
        sights = Sights(timed) if options.pieces else None
        config = uvicorn.Config(
            sights or timed, host="127.0.0.1", port=port, loop=options.loop, http=http,
            log_level="warning", access_log=False, lifespan="on",
        )  # fmt: skip
        server = uvicorn.Server(config)
        lines: list[str] = []

        def drive() -> None:
            try:
                while not server.started:
                    time.sleep(0.05)
                base = f"http://127.0.0.1:{port}"
                if options.parts:
                    parts.before()
                with contextlib.ExitStack() as mixing:
                    mix = None
                    if options.paced:
                        mix = mixing.enter_context(
                            person.requests_file(base, options.paced, True, options.paced_new)
                        )
                    for _ in range(options.rounds):
                        for freeze in (False, True) if options.freeze else (False,):
                            lines.append(measure(base, options.seconds, freeze, mix, timed, sights))
                            print(lines[-1], flush=True)
                if options.parts:
                    print(held(app, parts), flush=True)
            finally:
                server.should_exit = True

        threading.Thread(target=drive, daemon=True).start()
        server.run()
        if not lines:
            raise RuntimeError("no round completed")
        print(f"({options.store} store, {http} + {options.loop}, wrk -c32, one worker)")


if __name__ == "__main__":
    main()
