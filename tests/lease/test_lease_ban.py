"""A ban the shield finds by reading it (written by another worker, the CLI, the dashboard)
ends the client's leases at that full evaluation, as any decision but a plain allow does: on
Redis a leased request does not read the ban, so its page lease would otherwise go on allowing
pages until it ends (memory and Redis, both loops)."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore, RedisStore
from tests.browsers import chrome
from tests.lease.test_lease_person import _visit
from tests.servers import LOADED_STORE_TIMEOUT
from tests.windows import room

pytestmark = pytest.mark.both_loops


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_ban_found_by_a_full_evaluation_ends_the_client_s_leases(
    backend: str, redis_url: str, redis_prefix: str
) -> None:
    store: Any = (
        MemoryStore()
        if backend == "memory"
        else RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    )
    await room(1.0, 10.0)  # no 10 s bucket's end cuts the lease short (test_lease_person)
    shield = Shield(Settings(lease={"enabled": True, "seconds": 30.0}), store=store)
    leases = shield.leases
    assert leases is not None
    identity = next(d for d in shield.detectors if d.name == "identity")
    scope = synthetic_scope(path="/", headers=list(chrome().items()))
    token = identity.tokens.issue(shield.facts(scope))[1].decode().split(";")[0]  # type: ignore[attr-defined]
    visit = _visit(token)

    async def rule(n: int) -> str:
        path, headers = visit[n]
        facts = shield.facts(synthetic_scope(path=path, headers=list(headers.items())))
        return (await shield.decide(facts, shield.context())).rule

    try:
        # the first artwork (page, stylesheet, script, original), then the second's page:
        # granted (the client seen again), then the third's: leased
        assert [await rule(n) for n in range(5)] == ["allow"] * 5
        assert (leases.granted, leases.used, len(leases)) == (1, 0, 1)
        assert await rule(8) == "allow"
        assert leases.used == 1
        assert len(leases) == 1
        client = shield.facts(scope).client_key
        await shield.bans.ban(client, 60.0, reason="elsewhere")  # not through this shield
        assert await rule(11) == "ban/active"  # the third original: a full evaluation
        assert len(leases) == 0  # its leases ended (settled)
        assert await rule(12) == "ban/active"  # the fourth page: no lease left to allow it
        assert leases.used == 1
    finally:
        await shield.aclose()
        if isinstance(store, RedisStore):
            await store.aclose()
