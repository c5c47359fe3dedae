"""Reservations on a real Redis, in process (docs/leases.md, across workers): a lease's requests
are counted up front, its unused part given back (after the settle, the sweep and `aclose`,
whatever the strategy), and near a limit no lease is granted."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.detector import RequestContext
from scrapeshield.lease.table import WAITED_NOTE
from scrapeshield.ratelimit.leasing import RESERVED_NOTE
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import RedisStore
from tests.lease.reserving import API, QUOTA, STRATEGIES, near_the_limit
from tests.lease.reserving import decide as _decide
from tests.lease.reserving import settings as _settings
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = pytest.mark.clock_hour


async def _room(redis_url: str, prefix: str, strategy: str, quota: int = QUOTA) -> int:
    """How many more requests the shared counters admit (a shield without leases)."""
    settings = _settings(strategy, False, api=f"{quota}/hour")
    async with _shield_on(redis_url, prefix, settings) as shield:
        for n in range(quota + 1):
            if await _decide(shield) != "allow":
                return n
        return quota + 1


@contextlib.asynccontextmanager
async def _shield_on(redis_url: str, prefix: str, settings: Settings) -> AsyncIterator[Shield]:
    """A shield on a store of its own, both closed at the end (the shield first: its leases
    settle and give back before the store closes)."""
    store = RedisStore(redis_url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(settings, store=store)
    try:
        yield shield
    finally:
        await shield.aclose()
        await store.aclose()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_reservation_is_counted_at_once_and_its_unused_part_given_back_at_aclose(
    strategy: str, redis_url: str, redis_prefix: str
) -> None:
    async with _shield_on(redis_url, redis_prefix, _settings(strategy, True)) as shield:
        leases = shield.leases
        assert leases is not None
        for _ in range(4):  # the 1st in full, the 2nd granted (4 reserved), 3rd and 4th leased
            assert await _decide(shield) == "allow"
        assert (leases.granted, leases.used) == (1, 2)
        # every worker sees the reservation now: 2 + 4 counted, not 4
        assert await _room(redis_url, redis_prefix, strategy) == QUOTA - 6
    # the 2 unused given back at shutdown: counted exactly the 4 served and the probe's 34
    assert await _room(redis_url, redis_prefix, strategy) == 2
    assert leases.settled == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_the_sweep_gives_back_what_a_lease_left_unused(
    strategy: str, redis_url: str, redis_prefix: str
) -> None:
    async with _shield_on(redis_url, redis_prefix, _settings(strategy, True)) as shield:
        leases = shield.leases
        assert leases is not None
        for _ in range(3):  # in full, then 4 reserved, 1 used
            assert await _decide(shield) == "allow"
        assert leases.used == 1
        leases.sweep(time.time() + 60)  # the lease is over: settled, 3 given back
        await leases.written()
        assert len(leases) == 0
        assert await _room(redis_url, redis_prefix, strategy) == QUOTA - 3


async def test_near_the_limit_no_lease_is_granted_and_the_limit_is_exact(
    redis_url: str, redis_prefix: str
) -> None:
    settings = _settings("sliding-window-counter", True)
    async with _shield_on(redis_url, redis_prefix, settings) as shield:
        leases = shield.leases
        assert leases is not None
        await near_the_limit(shield, leases)
    assert leases.settled == leases.used


async def _next_bucket(window: float) -> None:
    """Sleep until a little after the next bucket of a sliding window starts."""
    now = time.time()
    await asyncio.sleep((now // window + 1) * window - now + 0.05)


@pytest.mark.both_loops
async def test_a_lease_lasts_to_its_bucket_end_after_a_sliding_window_rolled(
    redis_url: str, redis_prefix: str
) -> None:
    """Once a sliding window's previous bucket holds counts, its reset is the decay of one unit
    (2 s / 60 = 33 ms here): a lease ended there was over before the client's next request,
    so on Redis a person's share of leased requests fell from 66% to 25-57% by the run's
    timing (docs/leases.md). A reservation stays counted whole to its bucket's end."""
    window, limit = 2.0, "400/2 seconds"
    settings = _settings("sliding-window-counter", True, limit)
    async with _shield_on(redis_url, redis_prefix, settings) as shield:
        leases = shield.leases
        assert leases is not None
        await _next_bucket(window)
        filler = Shield(_settings("sliding-window-counter", False, limit), store=shield.store)
        for _ in range(60):  # the bucket that becomes the previous one
            assert await _decide(filler) == "allow"
        await filler.aclose()
        await _next_bucket(window)
        assert await _decide(shield) == "allow"  # in full (the client's first: no lease)
        assert await _decide(shield) == "allow"  # granted: 4 reserved
        assert (leases.granted, leases.used) == (1, 0)
        await asyncio.sleep(0.2)  # past the decay's reset, well before the bucket's end
        assert await _decide(shield) == "allow"
        assert (leases.granted, leases.used) == (1, 1)


async def _decide_in(shield: Shield, headers: list[tuple[str, str]] = API) -> RequestContext:
    ctx = shield.context()
    await shield.decide(shield.facts(synthetic_scope(path="/api/artworks", headers=headers)), ctx)
    return ctx


@pytest.mark.both_loops
@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_the_granting_hit_carries_the_next_reservation_and_gives_it_back_unused(
    strategy: str, redis_url: str, redis_prefix: str
) -> None:
    """A client holding leases is evaluated in full: its hit reserves the lease it is likely
    to be granted (no separate call, no wait: the lease is live at once, docs/leases.md);
    when no lease follows (here a scraper's user agent on the same address: blocked), the
    reservation is given back at once, in the next round trip, and the counts stay exact."""
    async with _shield_on(redis_url, redis_prefix, _settings(strategy, True)) as shield:
        leases = shield.leases
        assert leases is not None
        for _ in range(6):  # in full, granted (4 reserved by a call of its own), 4 leased
            assert (await _decide_in(shield)).notes.get(RESERVED_NOTE) is None
        assert (leases.granted, leases.used) == (1, 4)
        ctx = await _decide_in(shield)  # the lease used up: in full, and granted again
        held = ctx.notes[RESERVED_NOTE]
        assert (held.reserved, held.claimed, leases.granted) == (4, True, 2)
        assert WAITED_NOTE not in (await _decide_in(shield)).notes  # leased, not waited for
        assert leases.used == 5
        # counted: the 1st and 2nd, the 1st lease's 4, the 7th and the 2nd lease's 4 (1 used)
        assert await _room(redis_url, redis_prefix, strategy) == QUOTA - 11
    # the 2nd lease's 3 unused given back at shutdown (the probe took the other 29)
    assert await _room(redis_url, redis_prefix, strategy) == 3
    async with _shield_on(redis_url, redis_prefix + "2:", _settings(strategy, True)) as shield:
        leases = shield.leases
        assert leases is not None
        for _ in range(3):  # in full, granted, 1 leased
            await _decide_in(shield)
        scraper = [(k, "curl/8.0" if k == "User-Agent" else v) for k, v in API]
        ctx = await _decide_in(shield, scraper)  # reserved along, then blocked: no lease
        assert ctx.notes[RESERVED_NOTE].claimed is False
        await leases.written()
        assert len(leases) == 0  # (the client's lease ended too: 2 given back)
        assert await _room(redis_url, redis_prefix + "2:", strategy) == QUOTA - 4


@pytest.mark.both_loops
@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_requests_in_flight_together_reserve_once_and_keep_the_live_lease(
    strategy: str, redis_url: str, redis_prefix: str
) -> None:
    """One client's requests in flight at once (one tick's: wrk's 32 connections, a busy
    NAT's one browser build) once its lease is spent: one of them reserves the next lease
    along with its hit, and the others' grants keep that lease rather than each replacing the
    last (a reservation and a give-back apiece). Counted exactly after aclose all the same."""
    quota = 400
    settings = _settings(strategy, True, api=f"{quota}/hour")
    async with _shield_on(redis_url, redis_prefix, settings) as shield:
        leases = shield.leases
        assert leases is not None
        for _ in range(6):  # in full, granted (4 reserved), 4 leased: spent
            assert await _decide(shield) == "allow"
        granted = leases.granted
        rules = await asyncio.gather(*(_decide(shield) for _ in range(24)))
        assert set(rules) == {"allow"}
        # one new lease for the requests in flight together (before: a grant replaced it)
        assert leases.granted - granted == 1, (granted, leases.granted)
    room_after = await _room(redis_url, redis_prefix, strategy, quota)
    assert room_after == quota - 30
