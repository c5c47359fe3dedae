"""A lease grows with its client's pace (docs/leases.md): a lease its client used up before its
time is followed by one of twice as many requests, up to `lease.max_requests`; a lease that
ended otherwise (its time, a signal) by one of `lease.requests`. A grown lease reserves at most
a fifth of a limit's room, so near a limit the limit stays exact, in memory and on Redis."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.lease.table import Leases
from scrapeshield.ratelimit.backends import HIT_SCRIPT, RedisLimiter
from scrapeshield.store import MemoryStore, RedisStore
from tests.lease.reserving import QUOTA, decide
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = pytest.mark.clock_hour


def _settings(quota: int, max_requests: int = 32) -> Settings:
    return Settings(
        lease={"enabled": True, "requests": 4, "max_requests": max_requests, "seconds": 30.0},
        ratelimit={
            "strategy": "sliding-window-counter",
            "groups": {"default": {"limits": "100/minute"}, "api": {"limits": f"{quota}/hour"}},
        },
    )


def _memory(quota: int, max_requests: int = 32) -> tuple[Shield, Leases]:
    shield = Shield(_settings(quota, max_requests), store=MemoryStore())
    assert shield.leases is not None
    return shield, shield.leases


def _largest(leases: Leases) -> int:
    """The most requests any live lease holds (used and left), after its detectors' headroom."""
    return max(
        (
            lease.left + len(lease.records)
            for held in leases._table.values()
            for lease in held.values()
        ),
        default=0,
    )


async def test_a_lease_used_up_before_its_time_is_followed_by_one_twice_its_size() -> None:
    shield, leases = _memory(100_000)
    for _ in range(120):
        assert await decide(shield) == "allow"
    # in full: the 1st, the 2nd (granted 4), the 7th (8), the 16th (16), the 33rd (32), the
    # 66th and 99th (32 each, the most); leases of 4 that never grow would take 24 grants
    assert (leases.granted, leases.used) == (6, 113)
    await shield.aclose()


async def test_a_lease_that_ends_by_its_time_is_followed_by_one_of_the_first_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    shield, leases = _memory(100_000)
    for _ in range(10):  # in full at the 1st, 2nd (4) and 7th (8), then 3 of the 8 used
        assert await decide(shield) == "allow"
    assert (leases.granted, leases.used) == (2, 7)
    now[0] += 31  # the lease of 8 ends by its time, 5 requests unused
    for _ in range(2):  # the 1st in full (not seen again within 30 s), the 2nd granted
        assert await decide(shield) == "allow"
    assert (leases.granted, leases.used) == (3, 7)
    for _ in range(5):  # 4 leased, the 5th in full: the lease was of 4, and now grows to 8
        assert await decide(shield) == "allow"
    assert (leases.granted, leases.used, _largest(leases)) == (4, 11, 8)
    await shield.aclose()


async def test_a_grown_lease_reserves_at_most_a_fifth_of_the_room() -> None:
    shield, leases = _memory(1000, max_requests=1024)
    largest = 0
    for _ in range(400):
        assert await decide(shield) == "allow"
        largest = max(largest, _largest(leases))
    # grown to 128 and more, never past a fifth of the hour's 1000 (without the fifth: 512)
    assert 128 <= largest <= 1000 // 5
    await shield.aclose()


async def _exact_near_the_limit(shield: Shield, leases: Leases) -> None:
    rules = [await decide(shield) for _ in range(QUOTA + 2)]
    assert rules == ["allow"] * QUOTA + ["rate-limit"] * 2
    assert leases.used > 0


async def test_grown_leases_keep_a_limit_exact_in_memory() -> None:
    shield, leases = _memory(QUOTA)
    await _exact_near_the_limit(shield, leases)
    await shield.aclose()


@pytest.mark.both_loops
async def test_grown_leases_keep_a_limit_exact_on_redis(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(_settings(QUOTA), store=store)
    assert shield.leases is not None
    try:
        await _exact_near_the_limit(shield, shield.leases)
    finally:
        await shield.aclose()
        await store.aclose()


@pytest.mark.both_loops
async def test_a_grown_reservation_along_leaves_four_times_its_size_on_redis(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Redis a lease's requests are reserved in its granting request's own hit; a grown one
    is reserved only where every limit keeps four times its size unreserved."""
    asked: list[tuple[int, int]] = []
    queue = RedisLimiter.queue_reserving

    def spied(self: RedisLimiter, *args: Any) -> Any:
        asked.append(args[5])  # (units to reserve, units of room to leave)
        return queue(self, *args)

    monkeypatch.setattr(RedisLimiter, "queue_reserving", spied)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(_settings(100_000), store=store)
    try:
        for _ in range(120):
            assert await decide(shield) == "allow"
    finally:
        await shield.aclose()
        await store.aclose()
    assert max(units for units, _ in asked) >= 16  # grown
    assert all(room >= 4 * units for units, room in asked)


@pytest.mark.both_loops
async def test_requests_counted_into_a_reservation_along_keep_four_times_its_size_on_redis(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requests of a key in flight while its next lease is reserved along are counted into
    that reservation (docs/leases.md, "Waiting for the next lease"): the room it leaves grows
    with it, so it too is reserved only where every limit keeps four times its size."""
    sent: list[list[Any]] = []
    queue = RedisStore.queue_script

    def spied(self: RedisStore, source: str, keys: list[str], args: list[Any], then: Any) -> Any:
        if source == HIT_SCRIPT and len(args) == 6:  # (reserving along: its units, its room)
            sent.append(args)  # (the batch is made from this list when it is sent)
        return queue(self, source, keys, args, then)

    monkeypatch.setattr(RedisStore, "queue_script", spied)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(_settings(100_000), store=store)
    try:
        for _ in range(60):  # grown to 32
            assert await decide(shield) == "allow"
        for _ in range(4):  # 24 at once: the lease spent, the next reserved along
            assert set(await asyncio.gather(*(decide(shield) for _ in range(24)))) == {"allow"}
    finally:
        await shield.aclose()
        await store.aclose()
    assert any(units > 32 for units, _ in (args[4:] for args in sent))  # counted in
    assert all(room >= 4 * units for units, room in (args[4:] for args in sent))
