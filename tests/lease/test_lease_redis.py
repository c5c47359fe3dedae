"""Leases on a real Redis, in process: a leased request costs no round trip, and its settling
leaves with the next full evaluation's commands, in the same one round trip."""

from __future__ import annotations

from scrapeshield import Settings, Shield
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import RedisStore
from tests.browsers import chrome
from tests.servers import LOADED_STORE_TIMEOUT
from tests.windows import room


async def test_leased_requests_cost_no_round_trip_and_settle_in_the_next(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    settings = Settings(lease={"enabled": True, "requests": 3, "seconds": 30.0})
    shield = Shield(settings, store=store)
    api = list({**chrome(), "Accept": "application/json"}.items())
    leases = shield.leases
    assert leases is not None
    trips = []
    await room(1.0, 10.0)  # no 10 s bucket's end cuts the lease short (test_lease_person)
    try:
        for _ in range(6):
            before = store.round_trips
            scope = synthetic_scope(path="/api/artworks", headers=api)
            decision = await shield.decide(shield.facts(scope), shield.context())
            assert decision.rule == "allow"
            trips.append(store.round_trips - before)
        # the 1st in full (a client's first evaluation of a key is granted nothing); granted
        # at the 2nd, whose lease is reserved (counted up front, for every worker to see) in
        # a round trip of its own after its decision (nothing else to share it here): the 3rd
        # waits for it and is leased, as are the 4th and 5th; the 6th settles them with its
        # own hit (all three used: nothing to give back)
        assert trips == [1, 1, 1, 0, 0, 1]
        assert leases.used == 3
        assert leases.settled == 3
    finally:
        await shield.aclose()
        await store.aclose()
