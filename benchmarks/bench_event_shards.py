"""The block log's stream on a 3-primary Redis Cluster: one key against shards.

.venv/bin/python -m benchmarks.bench_event_shards [--clients 2000] [--requests 5]

Starts a real 3-primary cluster, then, for `event_stream_shards` 1 (one key: how every store
wrote before) and 16 (the default), sends a flood of requests through the middleware (httpx's
ASGI transport, X-Forwarded-For from a trusted proxy, `--clients` addresses `--requests` times
each, a limit of 1 an hour: most are refused and logged) and prints each primary's share of
the XADDs (`INFO commandstats`); then the readers' cost over what was logged: the newest 500
events, and paging back through all of it 500 at a time (ms, and entries read per event
returned, from the XREVRANGE replies).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

import httpx
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.servers import RedisClusterServers

from scrapeshield import ScrapeShield, Settings
from scrapeshield.store import RedisStore, open_store


def _xadds(nodes: list[redis.Redis]) -> list[int]:
    stats = [node.info("commandstats").get("cmdstat_xadd", {}) for node in nodes]
    return [int(s.get("calls", 0)) for s in stats]


async def _page(_: Request) -> PlainTextResponse:
    return PlainTextResponse("art")


def _settings(url: str, shards: int) -> Settings:
    return Settings(
        store_url=url,
        store_prefix=f"bench-shards-{shards}:",
        store_timeout=5.0,
        trusted_proxies=["127.0.0.1"],
        event_stream_shards=shards,
        fingerprint={"enabled": False},
        challenge={"enabled": False},
        ratelimit={"groups": {"default": {"limits": "1/hour", "network_limits": "100000/minute"}}},
    )


async def flood(url: str, shards: int, clients: int, requests: int) -> int:
    """Requests through the middleware; the number refused."""
    settings = _settings(url, shards)
    app = Starlette(routes=[Route("/artworks/{n}", _page)])
    shielded = ScrapeShield(app, settings=settings)
    transport = httpx.ASGITransport(app=shielded, client=("127.0.0.1", 4000))
    refused = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://site") as client:
        for round_ in range(requests):
            for start in range(0, clients, 50):
                replies = await asyncio.gather(
                    *(
                        client.get(
                            f"/artworks/{round_}",
                            headers={"X-Forwarded-For": f"10.{n // 250 % 250}.{n % 250}.7"},
                        )
                        for n in range(start, min(clients, start + 50))
                    )
                )
                refused += sum(1 for r in replies if r.status_code >= 400)
    await shielded.aclose()
    return refused


class Counting:
    """`RedisStore.submit` counting the entries XREVRANGE replies carry."""

    def __init__(self, store: RedisStore) -> None:
        self.store, self.entries = store, 0

    async def __call__(self, *args: Any) -> Any:
        rows = await self.store.submit(*args)
        self.entries += len(rows or [])
        return rows


async def readers(url: str, shards: int) -> dict[str, float]:
    store = open_store(_settings(url, shards))
    assert isinstance(store, RedisStore)
    counting = Counting(store)
    try:
        await store.ping()  # (connected before timing)
        started = time.perf_counter()
        newest = await store.events.read(counting, None, 500, None)
        newest_ms = (time.perf_counter() - started) * 1000
        newest_read = counting.entries / max(1, len(newest))
        counting.entries, total, before = 0, 0, None
        started = time.perf_counter()
        while True:
            rows = await store.events.read(counting, None, 500, before)
            total += len(rows)
            if len(rows) < 500:
                break
            before = rows[0].id
        return {
            "newest_ms": newest_ms,
            "newest_read": newest_read,
            "all_ms": (time.perf_counter() - started) * 1000,
            "all_events": total,
            "all_read": counting.entries / max(1, total),
        }
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # (the block log's lines: one per refused request)
    cluster = RedisClusterServers.start()
    try:
        nodes = [redis.Redis(port=n.port) for n in cluster.nodes]
        for shards in (1, 16):
            before = _xadds(nodes)
            started = time.perf_counter()
            refused = asyncio.run(flood(cluster.url, shards, args.clients, args.requests))
            seconds = time.perf_counter() - started
            added = [a - b for a, b in zip(_xadds(nodes), before, strict=True)]
            shares = ", ".join(f"{n / max(1, sum(added)):.0%}" for n in added)
            print(
                f"event_stream_shards={shards}: {args.clients * args.requests} requests, "
                f"{refused} refused, {sum(added)} XADDs in {seconds:.1f}s; "
                f"share per primary: {shares}"
            )
            read = asyncio.run(readers(cluster.url, shards))
            print(
                f"  newest 500: {read['newest_ms']:.1f} ms, {read['newest_read']:.2f} entries "
                f"read per event; all {read['all_events']:.0f} in pages of 500: "
                f"{read['all_ms']:.0f} ms, {read['all_read']:.2f} entries read per event"
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
