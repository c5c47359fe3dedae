"""Per-request cost of the behaviour and trap detectors (memory store), side by side.

.venv/bin/python -m benchmarks.bench_behaviour
"""

from __future__ import annotations

import asyncio
import time

from tests.browsers import chrome

from scrapeshield import Settings, Shield
from scrapeshield.shield import synthetic_scope

HEADERS = list(chrome().items())


async def per_request(settings: Settings, iterations: int) -> float:
    shield = Shield(settings)
    scopes = [
        synthetic_scope(path=f"/artworks/{n}", ip=f"203.0.113.{n % 200}", headers=HEADERS)
        for n in range(1, 1001)
    ]
    for scope in scopes:
        await shield.decide(shield.facts(scope))
    start = time.perf_counter()
    for i in range(iterations):
        await shield.decide(shield.facts(scopes[i % len(scopes)]))
    elapsed = time.perf_counter() - start
    await shield.aclose()
    return elapsed / iterations * 1e6


async def main(iterations: int = 20_000) -> None:
    traps = {"trap_paths": ["/artworks/archive-all"]}
    off = {"enabled": False}  # rate limiting off in all three: only behaviour/trap differ
    without = Settings(behaviour={"enabled": False, "trap": False}, directives=traps, ratelimit=off)
    with_ = Settings(directives=traps, ratelimit=off)
    trap_only = Settings(behaviour={"enabled": False}, directives=traps, ratelimit=off)
    base = await per_request(without, iterations)
    trap = await per_request(trap_only, iterations)
    full = await per_request(with_, iterations)
    # The first store-using detector also makes the shield gather (tasks) instead of awaiting
    # the ban check alone: that shows in the trap-only line.
    print(f"pipeline without behaviour/trap: {base:.1f} µs/request")
    print(f"pipeline with trap only:         {trap:.1f} µs/request ({trap - base:+.1f})")
    print(f"pipeline with behaviour+trap:    {full:.1f} µs/request ({full - base:+.1f})")
    print(f"behaviour detector alone:        {full - trap:.1f} µs/request")


if __name__ == "__main__":
    asyncio.run(main())
