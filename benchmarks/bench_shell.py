"""Where a request's cost outside the detectors goes: the shell's pieces per kind, leases on.

.venv/bin/python -m benchmarks.bench_shell [--rounds 6] [--persons 32]

`bench_person`'s "as shipped, leases on" app (memory store, `BENCH_PERSON=on`) called with
person.py's requests, one at a time; each piece of the shell is timed inside the request
(`time.perf_counter`, ~0.1 µs a timing more) and the best round's mean is printed per kind of
request (page, asset, original), leased and evaluated in full apart, beside the bare app's
request. The pieces: `facts` (`FactsBuilder.build`), `decide` (`Shield.decide_now`, of which
`lease use` is `Leases.use`, of which `binding` (`lease.Bindings`: found per header set),
`covering`, `ban read` and `replay` (the leased decision, made for the request: `replayed`)),
`headers` (the send wrapper adding the directive headers to the response start,
`_add_directives`, or `_add_headers` with other filters) and `app` (everything below the shield,
`headers` included). What a leased request costs over the bare app is `request` less the bare
app's; `bench_detectors` splits a full evaluation by detector.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from benchmarks import apps, person
from benchmarks.bench_detectors import Spent, timed
from benchmarks.bench_person import HOST, first_pages, kind_of, scopes, shield_of, stopped
from benchmarks.bench_request import Driver
from scrapeshield import middleware
from scrapeshield.facts import FactsBuilder
from scrapeshield.lease import lease, table
from scrapeshield.shield import Shield

KINDS = ("page", "asset", "original")
PIECES = ("facts", "decide", "lease use", "binding", "covering", "ban read", "replay", "headers")


def timed_app(app: Any, spent: Spent, kind: list[str]) -> Callable[..., Any]:
    async def timing(scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await app(scope, receive, send)
        spent[kind[0], "app"] += time.perf_counter() - started

    return timing


def instrument(spent: Spent, kind: list[str]) -> None:
    """Time the shell's pieces (class and module attributes: the benchmark's process only)."""
    FactsBuilder.build = timed("facts", FactsBuilder.build, spent, kind)  # type: ignore[method-assign]
    Shield.decide_now = timed("decide", Shield.decide_now, spent, kind)  # type: ignore[method-assign]
    table.replayed = timed("replay", table.replayed, spent, kind)  # type: ignore[attr-defined]
    Shield._ban_read = timed("ban read", Shield._ban_read, spent, kind)  # type: ignore[method-assign]
    table.Leases.use = timed("lease use", table.Leases.use, spent, kind)  # type: ignore[method-assign]
    lease.Bindings.__call__ = timed("binding", lease.Bindings.__call__, spent, kind)  # type: ignore[method-assign]
    lease.Lease.covering = timed("covering", lease.Lease.covering, spent, kind)  # type: ignore[method-assign]
    middleware._add_headers = timed("headers", middleware._add_headers, spent, kind)
    middleware._add_directives = timed("headers", middleware._add_directives, spent, kind)


async def bare_request(options: argparse.Namespace) -> dict[str, float]:
    """The bare app's µs per kind (best round), the floor each kind is compared with."""
    driver = Driver(apps.bare(), "/", image=False)
    await driver.start()
    mix = scopes(person.schedule(HOST, await first_pages(driver.app, options.persons)))
    best: dict[str, float] = {}
    for _ in range(options.rounds):
        spent: dict[str, float] = defaultdict(float)
        for scope in mix:
            started = time.perf_counter()
            await driver.app(dict(scope), driver.receive, driver.send)
            spent[kind_of(scope["path"])] += time.perf_counter() - started
        for name, total in spent.items():
            mean = total / sum(kind_of(s["path"]) == name for s in mix) * 1e6
            best[name] = min(best.get(name, float("inf")), mean)
    await driver.stop()
    return best


async def measure(options: argparse.Namespace) -> dict[tuple[str, str], float]:
    spent: Spent = defaultdict(float)
    kind = [""]
    os.environ.update({"BENCH_STORE_URL": "memory://", "BENCH_PERSON": "on"})
    os.environ["SCRAPESHIELD_LEASE__ENABLED"] = "true"
    instrument(spent, kind)  # before the app: the middleware binds `build` when it is made
    driver = Driver(apps.protected(), "/", image=False)
    await driver.start()
    mix = scopes(person.schedule(HOST, await first_pages(driver.app, options.persons)))
    shield = shield_of(driver.app)
    assert shield is not None
    leases = shield.shield.leases
    assert leases is not None
    shield.app = timed_app(shield.app, spent, kind)
    best: dict[tuple[str, str], float] = {}
    for _ in range(options.rounds):
        spent.clear()
        counts: dict[str, int] = defaultdict(int)
        for scope in mix:
            kind[0] = "?"
            used = leases.used
            started = time.perf_counter()
            await driver.app(dict(scope), driver.receive, driver.send)
            took = time.perf_counter() - started
            name = f"{kind_of(scope['path'])} {'leased' if leases.used > used else 'in full'}"
            for key in [k for k in spent if k[0] == "?"]:  # this request's pieces, by kind
                spent[name, key[1]] += spent.pop(key)
            spent[name, "request"] += took
            counts[name] += 1
        for key, total in spent.items():
            best[key] = min(best.get(key, float("inf")), total / counts[key[0]] * 1e6)
    await stopped(driver)
    return best


async def compare(options: argparse.Namespace) -> None:
    bare = await bare_request(options)
    best = await measure(options)
    print("µs per request, best round, as shipped with leases on (memory store)")
    for kind in KINDS:
        for way in ("leased", "in full"):
            name = f"{kind} {way}"
            pieces = {n: v for (k, n), v in best.items() if k == name}
            if not pieces:
                continue
            over = pieces["request"] - bare[kind]
            shown = ", ".join(f"{n} {pieces[n]:.1f}" for n in (*PIECES, "app") if n in pieces)
            print(f"  {name:17} request {pieces['request']:.1f} (bare {bare[kind]:.1f}, "
                  f"+{over:.1f}): {shown}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--persons", type=int, default=32)
    asyncio.run(compare(parser.parse_args()))


if __name__ == "__main__":
    main()
