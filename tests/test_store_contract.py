"""The one contract every Store passes, run on the memory store and on a real redis-server."""

from __future__ import annotations

import asyncio
import time

from scrapeshield.store import Store


async def test_set_get_delete(store: Store) -> None:
    assert await store.get("missing") is None
    await store.set("k", "v")
    assert await store.get("k") == "v"
    assert await store.delete("k") is True
    assert await store.delete("k") is False
    assert await store.get("k") is None


async def test_set_with_ttl_expires(store: Store) -> None:
    await store.set("short", "x", ttl=0.2)
    remaining = await store.ttl("short")
    assert remaining is not None
    assert 0 < remaining <= 0.2
    await asyncio.sleep(0.3)
    assert await store.get("short") is None
    assert await store.ttl("short") is None


async def test_incr_sets_ttl_only_on_create(store: Store) -> None:
    assert await store.incr("c", ttl=10) == 1
    assert await store.incr("c", 4, ttl=1000) == 5
    remaining = await store.ttl("c")
    assert remaining is not None
    assert remaining <= 10
    assert await store.incr("plain") == 1
    assert await store.ttl("plain") is None


async def test_incr_window_restarts_after_expiry(store: Store) -> None:
    assert await store.incr("w", ttl=0.2) == 1
    assert await store.incr("w", ttl=0.2) == 2
    await asyncio.sleep(0.3)
    assert await store.incr("w", ttl=0.2) == 1


async def test_get_many_and_keys(store: Store) -> None:
    await store.set("ban:a", "1", ttl=10)
    await store.set("ban:b", "2")
    await store.set("other", "3")
    assert await store.get_many(["ban:a", "nope", "other"]) == ["1", None, "3"]
    assert sorted(await store.keys("ban:")) == ["ban:a", "ban:b"]
    assert await store.get_many([]) == []


async def test_concurrent_increments_are_exact(store: Store) -> None:
    results = await asyncio.gather(*(store.incr("race", ttl=10) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))


async def test_event_stream_order_since_and_bound(store: Store) -> None:
    start = time.time()
    for n in range(150):  # the fixture bounds streams at 100 events
        await store.append_event({"n": n, "rule": "r"})
    events = await store.read_events(limit=1000)
    assert 100 <= len(events) <= 150  # Redis trims approximately (MAXLEN ~), never unboundedly
    assert [e.data["n"] for e in events] == sorted(e.data["n"] for e in events)
    assert events[-1].data == {"n": 149, "rule": "r"}
    tail = await store.read_events(limit=5)
    assert [e.data["n"] for e in tail] == [145, 146, 147, 148, 149]
    assert all(e.time >= start - 1 for e in events)
    assert await store.read_events(since=time.time() + 60) == []


async def test_ping(store: Store) -> None:
    await store.ping()
