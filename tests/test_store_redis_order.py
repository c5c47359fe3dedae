"""The Redis store's batches reach the server in the order it sent them (store/exchange.py),
even when an earlier one waits for a connection and a later one finds one at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio

from scrapeshield.store import RedisStore
from tests.servers import LOADED_STORE_TIMEOUT


async def test_a_batch_waiting_for_a_connection_is_not_overtaken(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape of the harness's flake (docs/log/store.md, "Batches in order"): a lease's
    settle (A: a leased request's only command) flushed while the store's one kept connection
    is busy (C), so it opens another, slowly (a loaded host); C answers and the client's next
    full evaluation (B) takes C's connection at once. B must not reach Redis before A: it
    would read counts without the lease's requests. Before the fix Redis saw B, then A."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=5 * LOADED_STORE_TIMEOUT)
    other = redis.asyncio.Redis.from_url(redis_url)
    order, release = f"{redis_prefix}order", f"{redis_prefix}release"
    try:
        await store.execute("DEL", order)  # (connected: the store keeps that connection)
        busy = asyncio.ensure_future(store.execute("BLPOP", release, 5))  # C holds it
        await asyncio.sleep(0.05)
        gate = asyncio.Event()
        client = store.client
        assert isinstance(client, redis.asyncio.Redis)
        connection_class: Any = client.connection_pool.connection_class
        connect, gated = connection_class.connect, list[Any]()

        async def slow_connect(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not gated:  # (A's new connection only: B's, if it needs one, goes at once)
                gated.append(self)
                await gate.wait()
            return await connect(self, *args, **kwargs)

        monkeypatch.setattr(connection_class, "connect", slow_connect)
        first = asyncio.ensure_future(store.execute("RPUSH", order, "A"))
        await asyncio.sleep(0.05)
        assert gated, "A did not wait for a connection of its own"
        await other.lpush(release, "x")  # C answers: its connection is free again
        await busy
        second = asyncio.ensure_future(store.execute("RPUSH", order, "B"))
        await asyncio.sleep(0.2)  # (long enough for B to reach Redis, were it let)
        gate.set()
        await asyncio.gather(first, second)
        assert await other.lrange(order, 0, -1) == [b"A", b"B"]
    finally:
        await other.delete(order, release)
        await other.aclose()
        await store.aclose()


async def test_a_kept_connection_does_not_let_a_batch_jump_the_queue(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store keeps two connections; the last one kept is found closed, so batch A opens it
    again (slowly); batch B, flushed meanwhile, finds the other kept connection ready. B still
    writes after A (a kept connection is taken at once only when no batch is still to write)."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=5 * LOADED_STORE_TIMEOUT)
    other = redis.asyncio.Redis.from_url(redis_url)
    order, release = f"{redis_prefix}order", f"{redis_prefix}release"
    try:
        await store.execute("DEL", order)
        busy = asyncio.ensure_future(store.execute("BLPOP", release, 5))
        await asyncio.sleep(0.05)
        await store.execute("PING")  # (a second connection, kept)
        await other.lpush(release, "x")
        await busy
        exchange = store._exchange
        assert exchange is not None
        assert len(exchange._idle) == 2
        await exchange._idle[-1].disconnect()
        gate = asyncio.Event()
        client = store.client
        assert isinstance(client, redis.asyncio.Redis)
        connection_class: Any = client.connection_pool.connection_class
        connect = connection_class.connect_check_health  # (what a send reconnects with)

        async def slow_connect(self: Any, *args: Any, **kwargs: Any) -> Any:
            await gate.wait()
            return await connect(self, *args, **kwargs)

        monkeypatch.setattr(connection_class, "connect_check_health", slow_connect)
        first = asyncio.ensure_future(store.execute("RPUSH", order, "A"))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(store.execute("RPUSH", order, "B"))
        await asyncio.sleep(0.2)
        gate.set()
        await asyncio.gather(first, second)
        assert await other.lrange(order, 0, -1) == [b"A", b"B"]
    finally:
        await other.delete(order, release)
        await other.aclose()
        await store.aclose()
