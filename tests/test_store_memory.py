"""The memory store stays bounded however many distinct clients arrive."""

from __future__ import annotations

import time

import pytest

from scrapeshield import Settings
from scrapeshield.store import MemoryStore, open_store


async def test_a_million_distinct_keys_stay_within_max_keys() -> None:
    store = MemoryStore(max_keys=10_000)
    peak = 0
    for n in range(1_000_000):
        await store.incr(f"hits:{n}", ttl=60)
        if n % 50_000 == 0:
            peak = max(peak, len(store))
    assert len(store) == 10_000
    assert peak <= 10_000
    assert store.evictions == 990_000
    # the most recent clients survive, the oldest were evicted
    assert await store.get("hits:999999") == "1"
    assert await store.get("hits:0") is None


async def test_recently_used_keys_survive_eviction() -> None:
    store = MemoryStore(max_keys=100)
    await store.set("keep", "1")
    for n in range(99):
        await store.incr(f"c:{n}")
    assert len(store) == 100
    assert await store.get("keep") == "1"  # touched: now the most recently used
    await store.incr("c:new")
    assert len(store) == 100
    assert await store.get("keep") == "1"
    assert await store.get("c:0") is None  # the least recently used went instead


async def test_event_ring_buffer_is_bounded() -> None:
    store = MemoryStore(max_events=10)
    for n in range(25):
        await store.append_event({"n": n})
    events = await store.read_events()
    assert [e.data["n"] for e in events] == list(range(15, 25))
    assert len({e.id for e in events}) == 10


def test_open_store_honours_the_bounds_in_settings() -> None:
    store = open_store(Settings(memory_max_keys=500, event_stream_maxlen=20))
    assert isinstance(store, MemoryStore)
    assert store._max_keys == 500
    assert store._events.maxlen == 20


async def test_a_flood_of_counters_cannot_evict_a_ban() -> None:
    """Bans have a table of their own: rotating through addresses to age out a ban fails."""
    from scrapeshield.bans import BanList

    store = MemoryStore(max_keys=1000)
    bans = BanList(store)
    await bans.ban("198.51.100.66", 3600, reason="scraping")
    for n in range(50_000):
        await store.incr(f"rl:client:default:2001:db8:{n:x}::/64", ttl=60)
    assert await bans.get("198.51.100.66") is not None
    assert len(store) == 1000 + 1
    for n in range(200):  # bans are bounded too (a tenth of max_keys, at least 100)
        await bans.ban(f"203.0.113.{n % 250}:{n}", 3600)
    assert len(await store.keys("ban:")) == 100


async def test_records_are_kept_expire_and_stay_bounded() -> None:
    """`record`: a caller's mutable state of one client under one key (the behaviour
    detector's counters and rings), made when missing, kept its TTL from each call."""
    import asyncio

    store = MemoryStore(max_keys=200)  # records: half of it

    def record(key: str, ttl: float = 60) -> list[int]:
        found = store.record(key, ttl, list[int])
        assert found is not None
        return found

    assert store.record("row:a", 60, list, create=False) is None
    assert await store.keys("row:") == []  # reading a missing record creates nothing
    row = record("row:a")
    assert row == []
    row.append(1)
    assert record("row:a") == [1]  # the same object, as the caller left it
    assert await store.keys("row:") == ["row:a"]
    assert await store.delete("row:a") is True
    assert store.record("row:a", 60, list, create=False) is None
    record("row:short", 0.05).append(2)
    await asyncio.sleep(0.1)
    assert record("row:short", 0.05) == []  # expired with its TTL: made anew
    record("row:keep").append(1)
    for n in range(500):
        record(f"row:{n}").append(1)
        if n % 10 == 0:
            record("row:keep")  # read: now the most recently used
    assert len(store) == 100
    assert record("row:keep") == [1]
    assert store.record("row:0", 60, list, create=False) is None  # the least recently used went


async def test_a_record_replaced_keeps_its_expiry_and_place() -> None:
    """`replace_record`: a record that is a plain value (behaviour's tally) is replaced, never
    changed in place; it keeps its expiry and its place among the most recently used."""
    import asyncio

    store = MemoryStore()
    store.replace_record("row:none", (1,))
    assert store.record("row:none", 60, tuple, create=False) is None  # nothing to replace
    assert store.record("row:old", 0.05, tuple) == ()
    assert store.record("row:new", 60, tuple) == ()
    store.replace_record("row:old", (1, 2))  # not made the most recent by it
    assert store.record("row:old", 0.05, tuple, create=False) == (1, 2)
    store.replace_record("row:old", (3,))
    await asyncio.sleep(0.1)
    assert store.record("row:old", 60, tuple, create=False) is None  # expired with its TTL
    lru = MemoryStore(max_keys=4)  # records: 2
    lru.record("row:1", 60, tuple)
    lru.record("row:2", 60, tuple)
    lru.replace_record("row:1", (4,))  # still the least recently used
    lru.record("row:3", 60, tuple)
    assert lru.record("row:1", 60, tuple, create=False) is None
    assert lru.record("row:2", 60, tuple, create=False) == ()


async def test_synchronous_api_matches_the_protocol() -> None:
    store = MemoryStore()
    assert store.bump("c", 2, ttl=60) == 2
    assert await store.incr("c", 1, ttl=60) == 3
    assert store.peek("c") == await store.get("c") == "3"
    store.put("k", "v", ttl=60)
    assert await store.get("k") == "v"
    ttl = await store.ttl("k")
    assert ttl is not None
    assert 59 < ttl <= 60
    assert store.peek("missing") is None


async def test_peek_ban_reads_a_clients_ban_record(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    assert store.peek_ban("192.0.2.1") is None  # no ban at all: the fast answer
    await store.set("ban:{192.0.2.1}", "record", ttl=60)
    store.put("other", "x", ttl=60)
    assert store.peek_ban("192.0.2.1") == "record"
    assert store.peek_ban("192.0.2.2") is None
    later = time.time() + 61
    monkeypatch.setattr("scrapeshield.store.memory.time.time", lambda: later)
    assert store.peek_ban("192.0.2.1") is None  # expired


def test_distinct_sets_are_bounded() -> None:
    """A set counts at most DISTINCT_CAP members; all sets together at most 8 * max_keys."""
    from scrapeshield.store.base import DISTINCT_CAP

    store = MemoryStore(max_keys=100)
    for n in range(DISTINCT_CAP + 50):
        count = store.distinct("one", str(n), 60)
    assert count == DISTINCT_CAP
    store = MemoryStore(max_keys=100)
    for client in range(200):
        for n in range(10):
            store.distinct(f"c{client}", str(n), 60)
    assert store._members <= 800
    assert store.distinct("c199", None) == 10  # the most recent kept
    assert store.distinct("c0", None) == 0  # the oldest evicted
    assert store.evictions > 0
