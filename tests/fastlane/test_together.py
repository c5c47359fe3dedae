"""One client's many connections (docs/leases.md, "Waiting for the next lease"): the target
row and a cookie-less scraper sent 32 requests at a time, as wrk's 32 connections send them,
leases on against off through the differential harness (`Twins.send_together`): every
decision (details included), response header and stored key agrees; Redis and memory, asyncio
and uvloop, the shipped policy and the benchmark's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fastlane import sequences
from tests.fastlane.differential import Twins
from tests.fastlane.test_differential import _redis
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING
from tests.servers import RedisServer

pytestmark = pytest.mark.both_loops

FLOORS = {  # leased: a change that stops leasing one client's connections fails (the shipped
    # policy challenges the target row from its 30th page: its first group's grants come late)
    ("never-refusing", True): 150,
    ("never-refusing", False): 600,
}


async def _together(twins: Twins) -> Twins:
    """The target row 32 at a time at its own pace (0.05 s apart: each group starts after the
    last lease's end) and ten times as fast (its leases used up within a group), the fast one
    with an original now and then, then a scraper mixing pages, originals and a stylesheet,
    the stores compared after each."""
    try:
        await twins.send_together(sequences.target_row(twins.clock.now))
        await twins.compare_stores()
        await twins.send_together(sequences.target_row(twins.clock.now, after=0.005))
        await twins.compare_stores()
        await twins.send_together(sequences.paging_with_originals(twins.clock.now))
        await twins.compare_stores()
        await twins.send_together(sequences.mixed_scraper(twins.clock.now))
        await twins.compare_stores()
    finally:
        await twins.aclose()
    return twins


@pytest.mark.parametrize("policy", ["shipped", "never-refusing"])
async def test_one_clients_connections_agree_with_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str, policy: str
) -> None:
    common: dict[str, Any] = NEVER_REFUSING if policy == "never-refusing" else {}
    for on_redis in (True, False):
        if on_redis:
            store = _redis(redis_server, f"{redis_prefix}{policy}:")
            twins = Twins(
                monkeypatch, store, server_clock=True, fast=LEASE, expiry_slack=1.0, **common
            )
        else:
            twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **common)
        leases = twins.fast.leases
        assert leases is not None
        await _together(twins)
        assert leases.used >= FLOORS.get((policy, on_redis), 0), (policy, leases.used)
