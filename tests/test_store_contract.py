"""The one contract every Store passes, run on the memory store and on a real redis-server."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeshield.store import Store

# every store, on asyncio and on uvloop; budgets' and hour limits' counts on the real clock
pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]

SHORT = 1.0
"""A TTL the next calls must come within (a loaded machine's Redis has taken over 0.25 s a
round trip), short enough to wait out."""


async def test_set_get_delete(store: Store) -> None:
    assert await store.get("missing") is None
    await store.set("k", "v")
    assert await store.get("k") == "v"
    assert await store.delete("k") is True
    assert await store.delete("k") is False
    assert await store.get("k") is None


async def test_set_with_ttl_expires(store: Store) -> None:
    await store.set("short", "x", ttl=SHORT)
    remaining = await store.ttl("short")
    assert remaining is not None
    assert 0 < remaining <= SHORT
    await asyncio.sleep(SHORT + 0.1)
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
    assert await store.incr("w", ttl=SHORT) == 1
    assert await store.incr("w", ttl=SHORT) == 2
    await asyncio.sleep(SHORT + 0.1)
    assert await store.incr("w", ttl=SHORT) == 1


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


async def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.name in {"memory", "redis"}


async def test_set_overwrites_value_and_ttl(store: Store) -> None:
    await store.set("o", "1", ttl=10)
    await store.set("o", "2")
    assert await store.get("o") == "2"
    assert await store.ttl("o") is None
    await store.set("o", "3", ttl=5)
    remaining = await store.ttl("o")
    assert remaining is not None
    assert 4 < remaining <= 5


async def test_expired_keys_are_gone_everywhere(store: Store) -> None:
    await store.set("gone:a", "1", ttl=0.1)
    await store.set("gone:b", "2", ttl=10)
    await store.set("gone:c", "3", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await store.delete("gone:c") is False
    assert await store.keys("gone:") == ["gone:b"]
    assert await store.get_many(["gone:a", "gone:b"]) == [None, "2"]
    assert await store.delete("gone:a") is False
    assert await store.ttl("gone:a") is None


async def test_incr_amounts_and_existing_ttl_kept(store: Store) -> None:
    assert await store.incr("n", 5, ttl=10) == 5
    assert await store.incr("n", -2) == 3
    remaining = await store.ttl("n")
    assert remaining is not None
    assert 9 < remaining <= 10


async def test_keys_limit_and_glob_characters_in_prefix(store: Store) -> None:
    for n in range(5):
        await store.set(f"p*[x]:{n}", str(n))
    await store.set("pZ[x]:9", "no")  # would match if `*` were a glob
    found = await store.keys("p*[x]:")
    assert sorted(found) == [f"p*[x]:{n}" for n in range(5)]
    assert len(await store.keys("p*[x]:", limit=2)) == 2
    assert await store.keys("nothing-here:") == []


async def test_values_and_events_round_trip_text(store: Store) -> None:
    value = '🎨 ünïcödé "quoted" \\ back'
    await store.set("u", value)
    assert await store.get("u") == value
    record = {"ua": value, "reasons": [{"name": "x", "weight": 1.5}], "ok": True, "n": None}
    await store.append_event(record)
    [event] = await store.read_events()
    assert event.data == record
    assert event.id


async def test_read_events_since_splits_the_stream(store: Store) -> None:
    await store.append_event({"n": 1})
    await asyncio.sleep(0.05)
    middle = time.time()
    await asyncio.sleep(0.05)
    await store.append_event({"n": 2})
    assert [e.data["n"] for e in await store.read_events(since=middle)] == [2]
    assert [e.data["n"] for e in await store.read_events(since=0)] == [1, 2]
    events = await store.read_events()
    assert events[0].time <= events[1].time
    assert events[0].id != events[1].id


async def test_incr_with_ttl_gives_a_persistent_key_a_ttl(store: Store) -> None:
    assert await store.incr("persist") == 1
    assert await store.ttl("persist") is None
    assert await store.incr("persist", ttl=10) == 2
    remaining = await store.ttl("persist")
    assert remaining is not None
    assert 9 < remaining <= 10


async def test_distinct_counts_members_once(store: Store) -> None:
    assert await store.count_distinct("d") == 0
    for n in range(1, 4):
        assert await store.add_distinct("d", f"/images/{n}.png", ttl=60) == n
    assert await store.add_distinct("d", "/images/2.png", ttl=60) == 3
    assert await store.count_distinct("d") == 3
    assert await store.count_distinct("other") == 0


async def test_distinct_union_counts_shared_members_once(store: Store) -> None:
    """A young visitor token's budget reads its own originals with its address's tokenless
    ones of the same period (docs/identity.md): one count over both keys."""
    for n in (1, 2, 3):
        await store.add_distinct("u1", f"/images/{n}.png", ttl=60)
    for n in (3, 4):
        await store.add_distinct("u2", f"/images/{n}.png", ttl=60)
    assert await store.count_distinct("u1", "u2") == 4
    assert await store.count_distinct("u2", "u1") == 4
    assert await store.count_distinct("u1", "missing") == 3
    assert await store.count_distinct("missing", "u2") == 2
    assert await store.count_distinct("missing", "absent") == 0
    assert await store.count_distinct("u1") == 3  # the keys themselves are unchanged


async def test_distinct_count_is_close_up_to_budgets(store: Store) -> None:
    """Exact on memory, a HyperLogLog on Redis: within 2% (or 1) up to a few hundred, which
    is where budgets are read."""
    for n in range(1, 401):
        count = await store.add_distinct("many", f"/images/{n}.png", ttl=60)
        assert abs(count - n) <= max(1, n // 50), (n, count)
    for n in range(1, 401):  # repeats add nothing
        await store.add_distinct("many", f"/images/{n}.png", ttl=60)
    assert abs(await store.count_distinct("many") - 400) <= 8


async def test_distinct_ttl_set_on_create_and_expires(store: Store) -> None:
    await store.add_distinct("dt", "a", ttl=SHORT)
    await store.add_distinct("dt", "b", ttl=1000)  # an existing key keeps its own TTL
    remaining = await store.ttl("dt")
    assert remaining is not None
    assert remaining <= SHORT
    await asyncio.sleep(SHORT + 0.1)
    assert await store.count_distinct("dt") == 0
    assert await store.add_distinct("dt", "c", ttl=10) == 1
    assert await store.delete("dt") is True
    assert await store.count_distinct("dt") == 0


async def test_distinct_keys_are_listed(store: Store) -> None:
    await store.add_distinct("id:b:x", "a", ttl=10)
    assert await store.keys("id:b:") == ["id:b:x"]
