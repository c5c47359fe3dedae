"""The Redis store's client-side CPU per request, the app and the detectors left out.

.venv/bin/python -m benchmarks.bench_store_client [--requests 20000] [--rounds 5]
    [--concurrency 1,4,32] [--loop asyncio|uvloop] [--profile] [--pipeline] [--soon]

Each simulated request queues what a page view with every defence queues on a `RedisStore`
(`bench_request --store redis` shows these shapes): the ban read (`get_soon`) and three script
calls (`submit_script`) with a page view's numbers of keys and arguments (5 and 6, 8 and 7, 3
and 8) and replies of the same shape (arrays of integers; behaviour's two rows, its ring as one
string and a flag), then awaits the four replies in turn, as the shield does. `--concurrency`
requests run at a time, each in a task of its own, so their commands are coalesced as under
load: with 32, one call carries 32 requests' parts; with 1, every request is a round trip of its
own. The scripts do no work on the server (a redis-server of its own), so what is measured is
the store's and redis-py's client CPU: queuing, packing, sending, parsing, settling, waking
callers. Time is process CPU (`time.process_time`), best of `--rounds`. `--pipeline` alternates,
in the same run, a second store that sends its batches through redis-py's `Pipeline` (as the
store did before `store/exchange.py`; its connections still carry no socket timeout). `--soon`
alternates a store used as the shield uses it now (`queue_script`: three parts, the ban read
from the rate limiter's reply, one wait for the batch: store/soon.py).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable
from typing import Any

from benchmarks.bench_ratelimit import redis_server
from benchmarks.bench_request import LOOPS
from scrapeshield.store import RedisStore

_ROW = "return {1, 2, 3, 4, 5, 6}"
# (source, number of keys, number of arguments): the rate limit, identity and behaviour
SCRIPTS = [
    ("return {0, 0, 1000, 999, 1000, 999}  -- bench: rate limit\n", 5, 6),
    ("return {1, 2, 3, 4, 5, 6, 7, 8}  -- bench: identity\n", 8, 7),
    (
        "return {{'1', '0', '0', '0'}, {'3', '0', '0', '0'}, "
        "'1764822000 7 1764822001 8 1764822002 9', 0}  -- bench: behaviour\n",
        3,
        8,
    ),
]


def shapes(client: int) -> list[tuple[str, list[str], list[Any]]]:
    """One request's script calls, with a client's keys and a page view's arguments."""
    tag = f"{{198.51.{client // 250}.{client % 250}}}"
    out = []
    for source, keys, args in SCRIPTS:
        names = [f"bench:{n}:{tag}:hour498994" for n in range(keys)]
        values: list[Any] = [120000, "ab", "1764822000 7", 64, 600000, "", "1764821400", "0"]
        out.append((source, names, values[:args]))
    return out


async def run(store: RedisStore, requests: int, concurrency: int, soon: bool = False) -> float:
    """CPU µs per request, `concurrency` requests at a time. `soon`: as the shield does now
    (`queue_script`: three parts, the ban read from the first, one wait for the batch)."""
    each = max(1, requests // concurrency)

    async def one_by_one(client: int) -> None:
        calls = shapes(client)
        ban = f"ban:{{198.51.{client // 250}.{client % 250}}}"
        for _ in range(each):
            if soon:
                soons = [store.queue_script(s, k, a, len) for s, k, a in calls]
                banned = soons[0].derived(len)
                await soons[0].tick
                banned.result()
                for queued in soons:
                    queued.result()
                continue
            replies: list[Awaitable[Any]] = [store.get_soon(ban)]
            replies += [store.submit_script(s, k, a) for s, k, a in calls]
            for reply in replies:
                await reply

    started = time.process_time()
    await asyncio.gather(*(one_by_one(c) for c in range(concurrency)))
    return (time.process_time() - started) / (each * concurrency) * 1e6


async def main_async(options: argparse.Namespace, url: str) -> None:
    stores = {"store": RedisStore(url, prefix="bench:", timeout=5.0)}
    if options.soon:
        stores["Soon"] = RedisStore(url, prefix="bench:", timeout=5.0)
    if options.pipeline:
        stores["Pipeline"] = RedisStore(url, prefix="bench:", timeout=5.0)
    levels = [int(c) for c in options.concurrency.split(",")]
    try:
        for name, store in stores.items():
            for level in levels:
                await run(store, 2000, level, name == "Soon")  # warm-up: scripts, connections
            if name == "Pipeline":
                store._exchange = None  # (the client is made: redis-py's Pipeline from now)
        if options.profile:
            profile = cProfile.Profile()
            profile.enable()
            await run(stores["store"], options.requests, levels[-1])
            profile.disable()
            pstats.Stats(profile).strip_dirs().sort_stats("tottime").print_stats(40)
            return
        rounds: dict[tuple[str, int], list[float]] = {(n, c): [] for n in stores for c in levels}
        for _ in range(options.rounds):
            for level in levels:
                for name, store in stores.items():
                    cost = await run(store, options.requests, level, name == "Soon")
                    rounds[name, level].append(cost)
        print(f"{options.loop}, RedisStore client CPU per request (4 parts; Soon: 3), best round:")
        for (name, level), costs in rounds.items():
            every = ", ".join(f"{c:.1f}" for c in costs)
            print(f"  {name:8} {level:3} at a time  {min(costs):6.1f} µs/request  ({every})")
    finally:
        for store in stores.values():
            await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,4,32", help="comma-separated levels")
    parser.add_argument("--loop", choices=sorted(LOOPS), default="uvloop")
    parser.add_argument("--profile", action="store_true", help="cProfile the last level")
    parser.add_argument("--pipeline", action="store_true", help="also redis-py's Pipeline")
    parser.add_argument("--soon", action="store_true", help="also as the shield queues now")
    options = parser.parse_args()
    with redis_server() as url:
        loop = LOOPS[options.loop]()
        try:
            loop.run_until_complete(main_async(options, url))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
