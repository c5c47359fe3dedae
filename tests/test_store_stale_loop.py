"""A store outlives event loops (a test client's, a CLI's `asyncio.run`): closing it on a new
loop must not trip over a pipeline that a stopped loop left in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import redis.asyncio

from scrapeshield.store import RedisStore
from tests.conftest import LOOP_FACTORIES
from tests.servers import LOADED_STORE_TIMEOUT, LOOPS

T = TypeVar("T")


def _run(loop: str, coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a new loop of the kind `loop` names (Python 3.11 has no loop_factory)."""
    new = LOOP_FACTORIES[loop]()
    try:
        return new.run_until_complete(coroutine)
    finally:
        new.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_aclose_on_a_new_loop_drops_a_flush_a_stopped_loop_left(
    loop: str, redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    old = LOOP_FACTORIES[loop]()

    async def leave_a_flush() -> asyncio.Future[object]:
        reply = store.submit("PING")
        await asyncio.sleep(0)  # the tick's flush runs: its pipeline is a task of this loop
        return reply

    try:
        reply = old.run_until_complete(leave_a_flush())
        assert store._flushes  # the loop stopped with the pipeline in flight
        assert not reply.done()
        client, exchange = store._client, store._exchange
        assert isinstance(client, redis.asyncio.Redis)

        _run(loop, store.aclose())  # failed: "attached to a different loop"

        assert not store._flushes  # dropped: nothing on the new loop waits for it
        assert _run(loop, _use_then_close(store)) == "v"  # and the store works on
        # The old loop, run again, still settles its own reply (then closes its client).
        assert old.run_until_complete(reply) in (True, b"PONG", "PONG")
        assert exchange is not None
        old.run_until_complete(exchange.release_idle())
        old.run_until_complete(client.aclose())
        old.run_until_complete(client.connection_pool.disconnect())
    finally:
        old.close()


async def _use_then_close(store: RedisStore) -> str | None:
    try:
        await store.set("k", "v", ttl=10)
        return await store.get("k")
    finally:
        await store.aclose()
