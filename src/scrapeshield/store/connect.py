"""The redis-py client for a store URL: one server, Sentinel (`redis+sentinel://`) or Cluster
(`redis+cluster://`). Connecting is its own concern; the store (`redis`) batches over it."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from scrapeshield.store import sentinel


def open_client(
    url: str, redis_url: str, *, timeout: float, max_connections: int
) -> tuple[aioredis.Redis | RedisCluster, Sentinel | None]:
    """A new client (no I/O yet) and, on Sentinel, the sentinels it asks. `redis_url` is `url`
    with a Cluster URL's scheme made plain (the node to discover the cluster from).

    Off Cluster the store's deadline bounds every exchange (`exchange`): no socket timeout,
    which would add a timer to every send and read."""
    cluster = url.startswith("redis+cluster://")
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout if cluster else None,
        "socket_connect_timeout": timeout,
    }
    if cluster:
        return RedisCluster.from_url(redis_url, **options), None
    if url.startswith(sentinel.SCHEME):
        return sentinel.primary_client(
            url, max_connections=max_connections, options=options, retry=Retry(NoBackoff(), 1)
        )
    # Blocking: past max_connections a batch waits (within its deadline) for a connection
    # rather than opening ever more sockets to a Redis that is slow. One retry on a fresh
    # connection: a pooled connection the server closed (an idle timeout, a restart) is
    # replaced without failing its batch.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=None, retry=Retry(NoBackoff(), 1), **options
    )
    return aioredis.Redis(connection_pool=pool), None
