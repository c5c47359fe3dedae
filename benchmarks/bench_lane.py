"""The lane probe's hit path in process, beside the bare app, the floor and the shipped app.

.venv/bin/python -m benchmarks.bench_lane [--requests 5000] [--rounds 5] [--loop uvloop]
    [--kind page|asset|original] [--cap 32] [--short]

`bench_request`'s harness (one request repeated, the visitor cookie the shipped app issued with
a first page, CPU time, apps alternated, best round): the bare gallery, `bench_floor`'s floor,
scrapeshield as shipped, and `benchmarks/lane_probe.py`'s probe (every defence as shipped,
MemoryStore) as built (counting the rate limit's and behaviour's real entries on a hit), with a
budget of 0 (every request a full evaluation: what a miss costs), without
its counting, and with each of the checks it leaves out added back (`ban`, `identity`,
`fields`) and all three. With `--cap 32` one request in 33 is a full evaluation (the probe's
misses are printed). Then the hit path's keys, table lookup and counting alone, in a hot loop.

The "record" rows: `benchmarks/lane_record.py`'s variant (a cheaper key: the peer address and
the raw header lines but the Referer; a hit counting on the probe's own compact record per
client and network rather than the detectors' entries), as built, every request a miss,
without counting and with one count at a time; the hot loop for it too. `--short`: bare, as
shipped, the probe and the record (each with and without counting) alone.
"""

from __future__ import annotations

import argparse
import asyncio
import timeit
from typing import Any

from benchmarks import apps, bench_floor
from benchmarks.bench_request import LOOPS, Driver, visitor_cookie
from benchmarks.lane_probe import COUNTS, PROBES, LaneProbe
from benchmarks.lane_record import RecordProbe
from scrapeshield.demo.app import create_gallery

NONE: frozenset[str] = frozenset()
PATHS = {"page": "/artworks/7", "asset": "/static/gallery.css", "original": "/images/7.png"}


def probe_app(
    cap: int,
    count: frozenset[str] = COUNTS,
    extras: frozenset[str] = NONE,
    record: bool = False,
) -> Any:
    app = create_gallery()
    probe = RecordProbe if record else LaneProbe
    app.add_middleware(
        probe, settings=apps.bench_settings(leases=False), cap=cap, count=count, extras=extras
    )
    return app


async def compare(options: argparse.Namespace) -> None:
    path, image = PATHS[options.kind], options.kind == "original"
    cap = options.cap
    made = {
        "bare": apps.bare(),
        "floor": bench_floor.floor(),
        "as shipped": apps.protected(),
        "probe": probe_app(cap),
        "probe, every request a miss": probe_app(0),
        "probe, no counting": probe_app(cap, count=frozenset()),
        "probe, rate limit counted": probe_app(cap, count=frozenset({"ratelimit"})),
        "probe, behaviour counted": probe_app(cap, count=frozenset({"behaviour"})),
        "probe + ban read": probe_app(cap, extras=frozenset({"ban"})),
        "probe + identity mark": probe_app(cap, extras=frozenset({"identity"})),
        "probe + RateLimit fields": probe_app(cap, extras=frozenset({"fields"})),
        "probe + all three": probe_app(cap, extras=frozenset({"ban", "identity", "fields"})),
        "record": probe_app(cap, record=True),
        "record, every request a miss": probe_app(0, record=True),
        "record, no counting": probe_app(cap, count=frozenset(), record=True),
        "record, rate limit counted": probe_app(cap, count=frozenset({"ratelimit"}), record=True),
        "record, behaviour counted": probe_app(cap, count=frozenset({"behaviour"}), record=True),
    }
    if options.short:  # bare, as shipped, the probe and its record variant alone
        shown = (
            "bare",
            "as shipped",
            "probe",
            "probe, no counting",
            "record",
            "record, no counting",
        )
        made = {name: made[name] for name in shown}
    drivers = {name: Driver(app, path, image) for name, app in made.items()}
    probes: dict[str, LaneProbe] = {}
    for name, driver in drivers.items():
        before = len(PROBES)
        await driver.start()
        if len(PROBES) > before:
            probes[name] = PROBES[-1]
    cookie = await visitor_cookie(drivers["as shipped"])
    for driver in drivers.values():
        driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
        await driver.run(1000)  # warm-up
    for probe in probes.values():
        probe.hits = probe.misses = probe.replayed = 0
    best = dict.fromkeys(drivers, float("inf"))
    rounds: dict[str, list[float]] = {name: [] for name in drivers}
    for _ in range(options.rounds):
        for name, driver in drivers.items():
            cost = await driver.run(options.requests)
            rounds[name].append(cost)
            best[name] = min(best[name], cost)
    bare = best["bare"]
    print(
        f"{options.loop}, {options.kind} {path}, a visitor cookie, cap {cap}, "
        f"{options.requests} requests x {options.rounds} rounds, best round (µs a request):"
    )
    for name in drivers:
        every = ", ".join(f"{c:.1f}" for c in rounds[name])
        print(f"  {name:26} {best[name]:6.1f}  +{best[name] - bare:5.1f} over bare  ({every})")
    for name in ("probe", "record"):
        hot_loop(name, probes[name], drivers[name].scope)
    await asyncio.gather(*(driver.stop() for driver in drivers.values()))


def hot_loop(name: str, probe: LaneProbe, scope: dict[str, Any]) -> None:
    """The probe's hits share, then its hit's keys, table lookup and counting in a hot loop."""
    share = probe.hits / max(1, probe.hits + probe.misses)
    signalled = probe.replayed / max(1, probe.hits)
    print(f"  {name}: hits {share:.1%} of its requests ({signalled:.0%} of them signalled)")
    key = probe.key(scope)
    table = probe.table
    n = 200_000
    keys = min(timeit.repeat(lambda: probe.key(scope), number=n, repeat=5)) / n * 1e6
    look = min(timeit.repeat(lambda: table.get(key), number=n, repeat=5)) / n * 1e6
    entry, page = table[key], str(scope["path"])
    count = min(timeit.repeat(lambda: probe._count(entry, page), number=n, repeat=5)) / n * 1e6
    print(
        f"    hot loop: keys {keys:.2f} µs, the table lookup {look:.2f}, the counting {count:.2f}"
    )
    if isinstance(probe, RecordProbe):  # what its miss adds: the records read again
        read = min(timeit.repeat(probe._read, number=n, repeat=5)) / n * 1e6
        print(f"    hot loop: a miss reading its records again {read:.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=sorted(PATHS), default="page")
    parser.add_argument("--cap", type=int, default=32, help="requests a full evaluation serves")
    parser.add_argument("--loop", choices=sorted(LOOPS), default="uvloop")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--short", action="store_true", help="bare, as shipped, the probe and the record alone"
    )
    options = parser.parse_args()
    with asyncio.Runner(loop_factory=LOOPS[options.loop]) as runner:
        runner.run(compare(options))


if __name__ == "__main__":
    main()
