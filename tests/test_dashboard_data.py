"""The dashboard's data seam on the memory store and a real Redis (both loops): the overview's
counts and buckets, a client's view with its counters, the tail after an id, and `reading`."""

from __future__ import annotations

import time

import pytest

from scrapeshield import Settings
from scrapeshield.bans import BanList
from scrapeshield.dashboard.data import BUCKETS, DashboardData, reading
from scrapeshield.ratelimit.escalation import level_key, strike_key
from scrapeshield.store import RedisStore, Store

pytestmark = pytest.mark.both_loops


def event(client: str, action: str, rule: str) -> dict[str, object]:
    return {"client_key": client, "action": action, "rule": rule, "event": "decision"}


async def test_overview_client_and_tail(store: Store) -> None:
    settings = Settings(event_stream_maxlen=100)
    for n in range(6):
        await store.append_event(event("198.51.100.1", "block", "ai-crawler"))
        if n % 2:
            await store.append_event(event("198.51.100.2", "challenge", "headless-browser"))
    await BanList(store).ban("198.51.100.1", 600, reason="seen")
    await store.incr(strike_key("198.51.100.1"), 3, ttl=300)
    await store.incr(level_key("198.51.100.1"), 1, ttl=3000)
    data = DashboardData(store, settings)

    overview = await data.overview("1h")
    assert overview.total == overview.retained == 9
    assert overview.by_action == {"block": 6, "challenge": 3}
    assert overview.by_rule == {"ai-crawler": 6, "headless-browser": 3}
    assert overview.by_client == {"198.51.100.1": 6, "198.51.100.2": 3}
    assert len(overview.timeline) == BUCKETS
    assert sum(sum(b["counts"].values()) for b in overview.timeline) == 9
    assert sum(overview.timeline[-1]["counts"].values()) == 9  # all of them just now
    assert (await data.overview("not-a-window")).window == "24h"
    later = await data.overview("1h", now=time.time() + 7200)
    assert later.total == 0  # the window moved past them; the stream still holds them
    assert later.retained == 9

    view = await data.client("198.51.100.1")
    assert view.total == 6
    assert len(view.events) == 6
    assert view.ban is not None
    assert view.ban.reason == "seen"
    assert view.trap is None
    assert view.counters.strikes == 3
    assert view.counters.ban_level == 1
    assert view.counters.strikes_ttl is not None
    assert 0 < view.counters.strikes_ttl <= 300

    everything = await data.tail(None)
    assert len(everything) == 9
    after = await data.tail(everything[6].id)
    assert [e.id for e in after] == [e.id for e in everything[7:]]
    assert await data.tail(everything[-1].id) == []
    assert len(await data.tail("garbage")) == 9  # a malformed id: the recent events


async def test_reading_redis_through_a_store_of_its_own(store: Store) -> None:
    settings = Settings()
    async with reading(store, settings) as data:
        if isinstance(store, RedisStore):
            assert data.store is not store
            assert isinstance(data.store, RedisStore)
            assert data.store.prefix == store.prefix
            assert data.store.timeout >= 5.0
        else:
            assert data.store is store
        await store.append_event(event("198.51.100.9", "block", "trap"))
        assert [e.data["rule"] for e in await data.tail(None)] == ["trap"]
