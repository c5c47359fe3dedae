"""Listing bans and trap flags on a large store: their indexes against a scan of the keyspace.

.venv/bin/python -m benchmarks.bench_ban_list [--keys 1000000] [--bans 200] [--flags 200]

Starts one redis-server, fills it with `--keys` other keys under the store's prefix (every
client's counters: `DEBUG POPULATE`), bans `--bans` clients with `BanList` and flags `--flags`
clients as the trap detector does (the flag and its index entry), then times
`BanList.active()` and `Support.trap_flags()` (the indexes: what the dashboard and
`scrapeshield bans` read) against `BanList.scan()` and `Support.scan_trap_flags()`
(`scrapeshield bans --scan`, what every listing did before), with the Redis server's own CPU
for each (`INFO commandstats`).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import redis
from tests.servers import RedisServer

from scrapeshield.bans import BanList
from scrapeshield.behaviour.trap import trap_key
from scrapeshield.store import RedisStore
from scrapeshield.store.expiring import index_soon
from scrapeshield.store.keys import TRAP_INDEX
from scrapeshield.support import Support

PREFIX = "scrapeshield:"


def _redis_usec(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(v["usec"]) for v in stats.values())


async def flag(store: RedisStore, client_key: str, ttl: float) -> None:
    """A trap hit's writes: the flag and its index entry, in one batch."""
    indexed = index_soon(store, TRAP_INDEX, [(client_key, time.time() + ttl)])
    await asyncio.gather(store.set(trap_key(client_key), "/trap", ttl=ttl), indexed)


async def measure(url: str, bans: int, flags: int) -> None:
    store = RedisStore(url, prefix=PREFIX, timeout=60.0)
    listing, support = BanList(store), Support(store)
    try:
        await asyncio.gather(
            *(listing.ban(f"10.0.{n // 250}.{n % 250}", 3600) for n in range(bans)),
            *(flag(store, f"10.1.{n // 250}.{n % 250}", 900) for n in range(flags)),
        )
        reads: list[tuple[str, str, Callable[[], Awaitable[Sequence[object]]]]] = [
            ("index", "bans", listing.active),
            ("scan", "bans", listing.scan),
            ("index", "trap flags", support.trap_flags),
            ("scan", "trap flags", support.scan_trap_flags),
        ]
        with redis.Redis.from_url(url) as client:
            for name, what, read in reads:
                client.config_resetstat()
                started = time.perf_counter()
                found = await read()
                ms = (time.perf_counter() - started) * 1000
                usec = _redis_usec(client)
                print(
                    f"{name:>5}: {len(found)} {what} in {ms:,.1f} ms, "
                    f"Redis CPU {usec / 1000:,.1f} ms"
                )
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--bans", type=int, default=200)
    parser.add_argument("--flags", type=int, default=200)
    args = parser.parse_args()
    server = RedisServer.start(extra=["--enable-debug-command", "local"])
    try:
        with redis.Redis.from_url(server.url) as client:
            client.execute_command("DEBUG", "POPULATE", args.keys, PREFIX + "rl:client:{x}")
            print(f"{client.dbsize():,} keys")
        asyncio.run(measure(server.url, args.bans, args.flags))
    finally:
        server.close()


if __name__ == "__main__":
    main()
