"""Reservations in memory (docs/leases.md): a lease's requests are counted in the native limiter
at its grant, none is hit while leased, and its unused part is given back (after the sweep and
at shutdown, whatever the strategy); near a limit no lease, so the limit is exact."""

from __future__ import annotations

import time

import pytest

from scrapeshield import Shield
from scrapeshield.lease.table import Leases
from scrapeshield.store import MemoryStore
from tests.lease.reserving import QUOTA, STRATEGIES, near_the_limit, settings
from tests.lease.reserving import decide as _decide

pytestmark = pytest.mark.clock_hour


def _shield(strategy: str) -> tuple[Shield, Leases]:
    """A shield with leases of 4 requests on the MemoryStore, and its lease table."""
    shield = Shield(settings(strategy, True), store=MemoryStore())
    assert shield.leases is not None
    return shield, shield.leases


async def _room(shield: Shield) -> int:
    """How many more requests the limiter admits, asked with the shield's leases set aside."""
    leases, shield.leases = shield.leases, None
    try:
        for n in range(QUOTA + 1):
            if await _decide(shield) != "allow":
                return n
        return QUOTA + 1
    finally:
        shield.leases = leases


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_reservation_is_counted_at_once_and_its_unused_part_given_back(
    strategy: str,
) -> None:
    shield, leases = _shield(strategy)
    for _ in range(4):  # the 1st in full, the 2nd granted (4 reserved), the 3rd and 4th leased
        assert await _decide(shield) == "allow"
    assert (leases.granted, leases.used) == (1, 2)
    assert await _room(shield) == QUOTA - 6  # 2 + 4 counted, not 4
    await leases.aclose()  # the 2 unused given back: the 4 served and the probe's 34 counted
    assert await _room(shield) == 2
    assert leases.settled == 2
    await shield.aclose()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_the_sweep_gives_back_what_a_lease_left_unused(strategy: str) -> None:
    shield, leases = _shield(strategy)
    for _ in range(3):  # in full, then 4 reserved, 1 used
        assert await _decide(shield) == "allow"
    assert leases.used == 1
    leases.sweep(time.time() + 60)  # the lease is over: settled, 3 given back
    assert len(leases) == 0
    assert await _room(shield) == QUOTA - 3
    await shield.aclose()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_near_the_limit_no_lease_is_granted_and_the_limit_is_exact(strategy: str) -> None:
    shield, leases = _shield(strategy)
    await near_the_limit(shield, leases)
    await shield.aclose()
