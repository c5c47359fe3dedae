"""Where a full evaluation's cost goes: each detector's µs per kind of request, person mix.

.venv/bin/python -m benchmarks.bench_detectors [--rounds 6] [--persons 32]

`bench_person`'s "as shipped, leases off" app (memory store, `BENCH_PERSON=on`: every request
evaluated in full) called with person.py's requests, one at a time; each detector's run and
`FactsBuilder.build` are timed inside the request (`time.perf_counter`, ~0.1 µs a timing
more), and the best round's mean per kind of request (page, asset, original) is printed,
largest first, beside the whole request's. A piece timed inside the request includes the
cold caches a request meets, which the same code looped alone does not (about twice the
loop's figure; docs/log/architecture.md).
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
from benchmarks.bench_person import HOST, first_pages, kind_of, scopes, stopped
from benchmarks.bench_request import Driver
from scrapeshield import detection
from scrapeshield.facts import FactsBuilder

Spent = defaultdict[tuple[str, str], float]


def timed(name: str, run: Callable[..., Any], spent: Spent, kind: list[str]) -> Callable[..., Any]:
    """`run`, its time added to `spent` under the current request's kind (`kind[0]`)."""

    def timing(*args: Any, **options: Any) -> Any:
        started = time.perf_counter()
        found = run(*args, **options)
        spent[kind[0], name] += time.perf_counter() - started
        return found

    return timing


def instrument(spent: Spent, kind: list[str]) -> None:
    """Time every detector's run (as `detection.runs_for` binds it) and the facts' build."""
    runs_for = detection.runs_for

    def timed_runs(detectors: Any) -> detection.Runs:
        runs = runs_for(detectors)
        entries = [(d, timed(d.name, run, spent, kind)) for d, run in runs.entries]
        return detection.Runs(entries, runs.early)

    detection.runs_for = timed_runs
    FactsBuilder.build = timed("facts", FactsBuilder.build, spent, kind)  # type: ignore[method-assign]


async def measure(options: argparse.Namespace) -> dict[tuple[str, str], float]:
    spent: Spent = defaultdict(float)
    kind = [""]
    instrument(spent, kind)
    os.environ.update({"BENCH_STORE_URL": "memory://", "BENCH_PERSON": "on"})
    os.environ["SCRAPESHIELD_LEASE__ENABLED"] = "false"
    driver = Driver(apps.protected(), "/", image=False)
    await driver.start()
    cookies = await first_pages(driver.app, options.persons)
    mix = scopes(person.schedule(HOST, cookies))
    counts = {k: sum(kind_of(s["path"]) == k for s in mix) for k in ("page", "asset", "original")}
    best: dict[tuple[str, str], float] = {}
    for _ in range(options.rounds):
        spent.clear()
        for scope in mix:
            kind[0] = kind_of(scope["path"])
            started = time.perf_counter()
            await driver.app(dict(scope), driver.receive, driver.send)
            spent[kind[0], "request"] += time.perf_counter() - started
        for key, total in spent.items():
            best[key] = min(best.get(key, float("inf")), total / counts[key[0]] * 1e6)
    await stopped(driver)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--persons", type=int, default=32)
    best = asyncio.run(measure(parser.parse_args()))
    print("µs per request, best round, as shipped with leases off (memory store)")
    for kind in ("page", "asset", "original"):
        pieces = sorted(((v, n) for (k, n), v in best.items() if k == kind), reverse=True)
        print(f"  {kind:8} " + ", ".join(f"{name} {value:.1f}" for value, name in pieces))


if __name__ == "__main__":
    main()
