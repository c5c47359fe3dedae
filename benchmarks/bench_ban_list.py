"""Listing bans on a large store: the ban index against a scan of the keyspace.

.venv/bin/python -m benchmarks.bench_ban_list [--keys 1000000] [--bans 200]

Starts one redis-server, fills it with `--keys` other keys under the store's prefix (every
client's counters: `DEBUG POPULATE`), bans `--bans` clients with `BanList`, then times
`BanList.active()` (the index: what the dashboard and `scrapeshield bans` read) against
`BanList.scan()` (`scrapeshield bans --scan`, what every listing did before), with the Redis
server's own CPU for each (`INFO commandstats`).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import redis
from tests.servers import RedisServer

from scrapeshield.bans import BanList
from scrapeshield.store import RedisStore

PREFIX = "scrapeshield:"


def _redis_usec(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(v["usec"]) for v in stats.values())


async def measure(url: str, bans: int) -> None:
    store = RedisStore(url, prefix=PREFIX, timeout=60.0)
    listing = BanList(store)
    try:
        await asyncio.gather(
            *(listing.ban(f"10.0.{n // 250}.{n % 250}", 3600) for n in range(bans))
        )
        with redis.Redis.from_url(url) as client:
            for name, read in (("index", listing.active), ("scan", listing.scan)):
                client.config_resetstat()
                started = time.perf_counter()
                found = await read()
                ms = (time.perf_counter() - started) * 1000
                usec = _redis_usec(client)
                print(
                    f"{name:>5}: {len(found)} bans in {ms:,.1f} ms, Redis CPU {usec / 1000:,.1f} ms"
                )
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--bans", type=int, default=200)
    args = parser.parse_args()
    server = RedisServer.start(extra=["--enable-debug-command", "local"])
    try:
        with redis.Redis.from_url(server.url) as client:
            client.execute_command("DEBUG", "POPULATE", args.keys, PREFIX + "rl:client:{x}")
            print(f"{client.dbsize():,} keys")
        asyncio.run(measure(server.url, args.bans))
    finally:
        server.close()


if __name__ == "__main__":
    main()
