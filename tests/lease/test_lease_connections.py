"""One client's many connections on Redis (docs/leases.md, "Waiting for the next lease"): the
benchmark's target row, 32 connections each sending its next request once answered, is leased
with few grants and reservations. It holds the refresh rule (4): a lease that has leased nothing
yet is refreshed by the full evaluations of its key in flight with its grant, not replaced
(without it each of them replaced the last, with a reservation and a give-back apiece, and
almost nothing was leased: 1,858-1,882 grants for 1,920 requests, 8-32 leased)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from benchmarks.efficacy.headers import chrome

from scrapeshield import Shield
from scrapeshield.ratelimit.backends import HIT_SCRIPT
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import RedisStore
from tests.fastlane.differential import twin_settings
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]

CONNECTIONS, EACH = 32, 60


@pytest.fixture
def reservations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """hit.lua's calls that reserve: on their own (a first grant's) and along with a hit."""
    counted: Counter[str] = Counter()
    submit, queue = RedisStore.submit_script, RedisStore.queue_script

    def submitted(self: RedisStore, source: str, keys: list[str], args: list[Any]) -> Any:
        counted["alone"] += source == HIT_SCRIPT
        return submit(self, source, keys, args)

    def queued(self: RedisStore, source: str, keys: list[str], args: list[Any], then: Any) -> Any:
        counted["along"] += source == HIT_SCRIPT and len(args) == 6
        return queue(self, source, keys, args, then)

    monkeypatch.setattr(RedisStore, "submit_script", submitted)
    monkeypatch.setattr(RedisStore, "queue_script", queued)
    return counted


async def test_one_clients_connections_are_leased_with_few_reservations(
    redis_url: str, redis_prefix: str, reservations: Counter[str]
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(twin_settings(**LEASE, **NEVER_REFUSING), store=store)
    leases = shield.leases
    assert leases is not None
    headers = [("Host", "gallery.test"), *chrome().navigation("https://gallery.test", "/")]

    async def connection() -> None:
        for _ in range(EACH):
            scope = synthetic_scope(path="/artworks/7", headers=headers, ip="198.51.100.50")
            decision = await shield.decide(shield.facts(scope), shield.context())
            assert decision.action.value == "allow"
            await asyncio.sleep(0)  # (a server reads the connection's next request)

    try:
        await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    finally:
        await shield.aclose()
        await store.aclose()
    sent = CONNECTIONS * EACH
    # (2026-12-07: 14 grants, 14 reservations, 1,845 of 1,920 leased, both loops)
    assert leases.used >= sent // 2, (leases.used, leases.granted, reservations)
    assert reservations.total() <= sent // 20, (leases.used, leases.granted, reservations)
