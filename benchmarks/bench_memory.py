"""Memory per tracked client: the memory store's resident size stays bounded however many
clients pass, and what each tracked client costs in Redis.

.venv/bin/python -m benchmarks.bench_memory [--clients 1000000] [--redis-clients 20000]

Every request goes through the whole pipeline (every defence as shipped, limits and score
thresholds out of reach: benchmarks/apps.py), each from a new address, a Chrome link click.
Prints the process's resident memory as the memory store fills up to `memory_max_keys` and past
it, then the Redis server's used_memory per client after `--redis-clients` clients.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

import redis

from benchmarks import apps
from benchmarks.bench_ratelimit import redis_server
from benchmarks.run import BROWSER_HEADERS
from scrapeshield import Shield
from scrapeshield.store import RedisStore

HEADERS = [(b"host", b"127.0.0.1:8000")] + [
    (name.encode(), value.encode())
    for name, _, value in (header.partition(": ") for header in BROWSER_HEADERS)
]


def scope(n: int) -> dict[str, Any]:
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    return {
        "type": "http", "method": "GET", "path": f"/artworks/{n % 300 + 1}",
        "raw_path": f"/artworks/{n % 300 + 1}".encode(), "query_string": b"", "scheme": "http",
        "http_version": "1.1", "client": (address, 50000), "server": ("127.0.0.1", 8000),
        "headers": HEADERS,
    }  # fmt: skip


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def memory_store(clients: int) -> None:
    os.environ["BENCH_STORE_URL"] = "memory://"
    settings = apps.bench_settings()
    shield = Shield(settings)
    marks = {0, 10_000, 100_000, 250_000, 500_000, clients}
    start = time.perf_counter()
    print(f"memory store, memory_max_keys={settings.memory_max_keys:,}")
    print(f"{'clients':>10} {'resident MB':>12} {'s':>7}")
    for n in range(clients + 1):
        if n in marks:
            elapsed = time.perf_counter() - start
            print(f"{n:>10,} {resident_mb():>12.1f} {elapsed:>7.1f}", flush=True)
        await shield.decide(shield.facts(scope(n)))
    await shield.aclose()


async def redis_store(clients: int) -> None:
    with redis_server() as url:
        os.environ["BENCH_STORE_URL"] = url
        settings = apps.bench_settings()
        store = RedisStore(url, prefix=settings.store_prefix, timeout=5.0)
        shield = Shield(settings, store=store)
        with redis.Redis.from_url(url) as admin:
            before = int(admin.info("memory")["used_memory"])
            for first in range(0, clients, 200):  # 200 at a time, as a busy server would
                batch = range(first, min(first + 200, clients))
                await asyncio.gather(*(shield.decide(shield.facts(scope(n))) for n in batch))
            used = int(admin.info("memory")["used_memory"]) - before
            keys = int(admin.dbsize())
        await shield.aclose()
    per_client = f"{used / clients:,.0f} bytes and {keys / clients:.1f} keys per client"
    print(f"Redis: {clients:,} clients, {keys:,} keys, {used / 2**20:.1f} MB: {per_client}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--redis-clients", type=int, default=20_000)
    options = parser.parse_args()
    asyncio.run(memory_store(options.clients))
    asyncio.run(redis_store(options.redis_clients))


if __name__ == "__main__":
    main()
