"""One client's many connections (docs/leases.md, "Waiting for the next lease"): the target
row and a cookie-less scraper sent 32 requests at a time, as wrk's 32 connections send them,
leases on against off through the differential harness (`Twins.send_together`): every
decision (details included), response header and stored key agrees; Redis and memory, asyncio
and uvloop, the shipped policy and the benchmark's."""

from __future__ import annotations

import pytest

from tests.fastlane import sequences
from tests.fastlane.differential import Twins
from tests.fastlane.test_replayed import each_compared, leased_runs
from tests.servers import RedisServer

pytestmark = pytest.mark.both_loops

FLOORS = {  # leased: a change that stops leasing one client's connections fails (the shipped
    # policy challenges the target row from its 30th page: its first group's grants come late)
    # (Redis: 325 on asyncio, 279 on uvloop at 2026-12-07's merge; 192 when the reserve-along
    # read its client's seen-again time under another key than `_seen_again` keeps it by)
    ("never-refusing", True): 240,
    ("never-refusing", False): 600,
}


async def _together(twins: Twins) -> None:
    """The target row 32 at a time at its own pace (0.05 s apart: each group starts after the
    last lease's end) and ten times as fast (its leases used up within a group), the fast one
    with an original now and then, then a scraper mixing pages, originals and a stylesheet,
    the stores compared after each."""
    await each_compared(
        twins,
        twins.send_together,
        [
            lambda t: sequences.target_row(t.clock.now),
            lambda t: sequences.target_row(t.clock.now, after=0.005),
            lambda t: sequences.paging_with_originals(t.clock.now),
            lambda t: sequences.mixed_scraper(t.clock.now),
        ],
    )


@pytest.mark.parametrize("policy", ["shipped", "never-refusing"])
async def test_one_clients_connections_agree_with_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str, policy: str
) -> None:
    stores = (True, False)
    used = await leased_runs(monkeypatch, redis_server, redis_prefix, policy, _together, stores)
    for on_redis, leased in used.items():
        assert leased >= FLOORS.get((policy, on_redis), 0), (policy, on_redis, leased)
